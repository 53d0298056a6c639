//! The generic optimizer: Keras's `BaseOptimizer.apply` around an [`UpdateRule`].

use super::base_options::BaseOptions;
use super::buffers::{slot_views, Buffers};
use super::clipping::Clipping;
use super::learning_rate::{check_learning_rate, LearningRate};
use super::pipeline::{apply_weight_decay, prepare_gradients, update_ema};
use super::schedules::{LearningRateSchedule, NoSchedule};
use super::{
    variables_differ, DeviceState, FlatParams, Optimizer, ResidentVars, Slots, StepContext,
    UpdateRule, VarBuffers, VarInfo, Variables,
};
use crate::device::{Buffer, KerasDevice};
use crate::kernels::update::RuleStep;
use crate::kernels::{Accumulate, Decay, DeviceUpdate, Ema, Stages};
use crate::{Error, Result};

/// A Keras optimizer: an [`UpdateRule`] (Adam, SGD, ...) inside Keras's generic machinery.
///
/// Each [`apply`](Optimizer::apply) does, in Keras's order: loss-scale undo, gradient
/// accumulation, clipping, decoupled weight decay, the rule's update of every variable, the
/// EMA update (and overwrite), then counts the call. Slots are allocated on the first call
/// from the [`FlatParams`] layout and reused afterwards.
///
/// `S` is the learning-rate schedule type ([`NoSchedule`] for a constant rate).
///
/// # Examples
/// ```
/// use keras_core::optimizers::{FlatParams, KerasOptimizer, Optimizer, Sgd};
/// let mut opt: KerasOptimizer<Sgd> = Sgd::new().with_learning_rate(0.1).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[2][..])]);
/// params.grads.copy_from_slice(&[1.0, -2.0]);
/// opt.apply(&mut params).unwrap();
/// assert_eq!(params.values, [-0.1, 0.2]);
/// assert_eq!(opt.iterations(), 1);
/// ```
#[derive(Debug, Clone)]
pub struct KerasOptimizer<U, S = NoSchedule> {
    pub(crate) rule: U,
    pub(crate) learning_rate: LearningRate<S>,
    pub(crate) options: BaseOptions,
    pub(crate) clipping: Clipping,
    /// Every `apply` call so far (Keras's `optimizer._iterations`).
    pub(crate) raw_iterations: u64,
    pub(crate) buffers: Option<Buffers>,
    /// Loaded state waiting for the first `apply` to know the layout.
    pub(crate) pending: Vec<(String, Vec<f32>)>,
    /// The variables (paths, shapes) of the parameters the buffers were built for, or those a
    /// loaded state declared before the first step.
    pub(crate) variables: Option<Variables>,
}

impl<U: UpdateRule + Default> Default for KerasOptimizer<U> {
    /// The rule's Keras defaults (learning rate [`UpdateRule::DEFAULT_LEARNING_RATE`]) and no
    /// base option.
    fn default() -> Self {
        Self::from_parts(
            U::default(),
            LearningRate::Constant(U::DEFAULT_LEARNING_RATE),
            BaseOptions::default(),
            Clipping::None,
        )
    }
}

impl<U: UpdateRule, S> KerasOptimizer<U, S> {
    pub(crate) fn from_parts(
        rule: U,
        learning_rate: LearningRate<S>,
        options: BaseOptions,
        clipping: Clipping,
    ) -> Self {
        Self {
            rule,
            learning_rate,
            options,
            clipping,
            raw_iterations: 0,
            buffers: None,
            pending: Vec::new(),
            variables: None,
        }
    }

    /// The update rule and its hyper-parameters.
    pub fn rule(&self) -> &U {
        &self.rule
    }

    /// The learning rate (constant or schedule).
    pub fn learning_rate_setting(&self) -> &LearningRate<S> {
        &self.learning_rate
    }

    /// Every `apply` call so far, gradient-accumulation micro-steps included (Keras's
    /// `optimizer._iterations`; schedules are evaluated at this count).
    pub fn raw_iterations(&self) -> u64 {
        self.raw_iterations
    }

    /// Whether the slots exist (after the first `apply` or [`build`](Self::build)).
    pub fn is_built(&self) -> bool {
        self.buffers.is_some()
    }

    /// Slot `name` (e.g. `"velocity"`) over all parameters, once built.
    pub fn slot(&self, name: &str) -> Option<&[f32]> {
        let k = self.rule.slot_names().iter().position(|&s| s == name)?;
        Some(self.buffers.as_ref()?.slots.get(k)?.as_slice())
    }

    /// The moving averages of the variables, when EMA is on and the optimizer is built.
    pub fn moving_average(&self) -> Option<&[f32]> {
        let b = self.buffers.as_ref()?;
        self.options.use_ema.then_some(b.ema.as_slice())
    }

    /// Allocates the slots for `params` (Keras's `optimizer.build(variables)`); later calls
    /// check that `params` keeps that layout. [`apply`](Optimizer::apply) calls it.
    pub fn build(&mut self, params: &FlatParams) -> Result<()> {
        if params.grads.len() != params.values.len() {
            return Err(Error::ShapeMismatch {
                name: "grads",
                expected: format!("{} values, as many as `values`", params.values.len()),
                got: format!("{} values", params.grads.len()),
            });
        }
        match &self.buffers {
            Some(b) if b.matches(params) => Ok(()),
            Some(b) => Err(Error::ShapeMismatch {
                name: "params",
                expected: format!(
                    "the {} variables the optimizer was built for",
                    b.layout.len()
                ),
                got: format!("{} variables with another layout", params.vars.len()),
            }),
            None => {
                let model = variables_of(params);
                if let Some(reason) = self
                    .variables
                    .as_deref()
                    .and_then(|saved| variables_differ(saved, &model))
                {
                    return Err(Error::ShapeMismatch {
                        name: "optimizer state",
                        expected: "the variables the loaded state was saved for".into(),
                        got: reason,
                    });
                }
                let mut b = Buffers::new(&self.rule, &self.options, self.clipping, params)?;
                let slot_names = self.rule.slot_names();
                for (name, values) in &self.pending {
                    let Some(buf) = b.named_mut(slot_names, name) else {
                        continue;
                    };
                    if buf.len() != values.len() {
                        return Err(Error::invalid(
                            "state",
                            format!(
                                "entry `{name}` holds {} values but these parameters need {}",
                                values.len(),
                                buf.len()
                            ),
                        ));
                    }
                    buf.copy_from_slice(values);
                }
                self.pending.clear();
                self.buffers = Some(b);
                self.variables = Some(model);
                Ok(())
            }
        }
    }

    /// Keras's `optimizer.iterations`: completed update steps.
    fn update_iterations(&self) -> u64 {
        match self.options.gradient_accumulation_steps {
            Some(steps) => self.raw_iterations / steps,
            None => self.raw_iterations,
        }
    }

    fn check_missing(&self, params: &FlatParams) -> Result<()> {
        if let Some(first) = params.missing_grads().next() {
            if !self.options.allow_missing_gradients || params.vars.iter().all(|v| !v.has_grad) {
                return Err(Error::MissingGradient {
                    name: first.name.clone(),
                });
            }
        }
        Ok(())
    }
}

impl<U: UpdateRule, S> KerasOptimizer<U, S> {
    /// Whether [`apply_resident`](Optimizer::apply_resident) takes the step on `D`: a rule the
    /// device runs, every variable with a gradient, and no loss scale together with a norm clip.
    fn runs_resident<D: KerasDevice>(&self, params: &FlatParams) -> bool {
        D::runs_update(U::DEVICE_KERNEL)
            && !params.vars.is_empty()
            && params.vars.iter().all(|v| v.has_grad)
    }
}

/// Variables of at least this many values are split across rayon's threads by elementwise rules.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// `rule.update` on one variable; for an elementwise rule and a large variable, on blocks of it
/// in parallel (the same arithmetic on each element, so the same bits).
fn update_in_blocks<U: UpdateRule>(
    rule: &U,
    step: &U::Step,
    var: &VarInfo,
    value: &mut [f32],
    grad: &mut [f32],
    slots: Slots<'_>,
) {
    let len = value.len();
    if !U::ELEMENTWISE || len < PARALLEL_MIN_LEN || rayon::current_num_threads() < 2 {
        rule.update(step, var, value, grad, slots);
        return;
    }
    // Halves at a multiple of 64 elements, so every block but the last keeps whole vectors.
    let mid = (len / 2).next_multiple_of(64).min(len);
    let (value_a, value_b) = value.split_at_mut(mid);
    let (grad_a, grad_b) = grad.split_at_mut(mid.min(grad.len()));
    let mut slots_a: Slots<'_> = Default::default();
    let mut slots_b: Slots<'_> = Default::default();
    for ((slot, a), b) in slots.into_iter().zip(&mut slots_a).zip(&mut slots_b) {
        if slot.len() == len {
            (*a, *b) = slot.split_at_mut(mid);
        }
    }
    rayon::join(
        || update_in_blocks(rule, step, var, value_a, grad_a, slots_a),
        || update_in_blocks(rule, step, var, value_b, grad_b, slots_b),
    );
}

impl<U: UpdateRule, S: LearningRateSchedule> KerasOptimizer<U, S> {
    /// [`Optimizer::apply`].
    fn apply_with(&mut self, params: &mut FlatParams) -> Result<()> {
        if params.vars.is_empty() {
            return Ok(());
        }
        self.build(params)?;
        self.check_missing(params)?;
        let raw = self.raw_iterations;
        let iterations = self.update_iterations();
        let lr = self.learning_rate.at(raw);
        let scheduled = self.learning_rate.is_schedule();
        let Some(b) = self.buffers.as_mut() else {
            return Err(Error::invalid("params", "the optimizer could not be built"));
        };
        let options = &self.options;
        let FlatParams {
            values,
            grads,
            vars,
        } = params;
        let preprocess = !b.work.is_empty();
        let is_update_step =
            !preprocess || prepare_gradients(options, self.clipping, raw, grads, vars, b);
        if is_update_step {
            apply_weight_decay(options, lr, values, vars);
            let ctx = StepContext {
                learning_rate: lr,
                iterations,
                scheduled,
            };
            let step = self.rule.begin_step(&ctx);
            let g: &mut [f32] = if preprocess { &mut b.work } else { grads };
            for (i, v) in vars.iter().enumerate().filter(|(_, v)| v.has_grad) {
                let slots = slot_views(&mut b.slots, &b.slot_ranges, i);
                update_in_blocks(
                    &self.rule,
                    &step,
                    v,
                    &mut values[v.range()],
                    &mut g[v.range()],
                    slots,
                );
            }
        }
        update_ema(options, iterations, values, &mut b.ema);
        self.raw_iterations += 1;
        Ok(())
    }
}

impl<U: UpdateRule, S: LearningRateSchedule> Optimizer for KerasOptimizer<U, S> {
    fn apply(&mut self, params: &mut FlatParams) -> Result<()> {
        self.apply_with(params)
    }

    /// Resident for rules the device runs ([`KerasDevice::runs_update`]: all of Keras's twelve,
    /// Lamb and Adafactor in a few passes with their norms and means reduced on the device) when
    /// every variable has a gradient, with the base optimizer's stages folded into each
    /// variable's kernel (gradient accumulation, `clipvalue`, decoupled weight decay, EMA and its
    /// overwrite); `clipnorm` and `global_clipnorm` take a pass before it that undoes a loss
    /// scale, accumulates the gradients and sums their squares on the device. Otherwise a loss
    /// scale is undone in the update's kernel (the gradient divided by it first).
    fn apply_resident<D: KerasDevice, V: ResidentVars<D>>(
        &mut self,
        params: &FlatParams,
        vars: &mut V,
        state: &mut DeviceState<D>,
    ) -> Result<bool> {
        if !self.runs_resident::<D>(params) {
            return Ok(false);
        }
        self.build(params)?;
        let Some(b) = self.buffers.as_mut() else {
            return Ok(false);
        };
        if !state.live {
            let device = vars.device();
            let n_slots = self.rule.slot_names().len();
            let upload = |values: &[f32]| {
                device
                    .try_upload(values)
                    .map_err(Error::on_device::<D>("the optimizer's state"))
            };
            state.vars.clear();
            for (i, var) in params.vars.iter().enumerate() {
                let views = slot_views(&mut b.slots, &b.slot_ranges, i);
                let mut slots = Vec::with_capacity(n_slots);
                for view in views.iter().take(n_slots) {
                    slots.push(match view.is_empty() {
                        true => None,
                        false => Some(upload(view)?),
                    });
                }
                let accumulator = match b.accumulator.is_empty() {
                    true => None,
                    false => Some(upload(&b.accumulator[var.range()])?),
                };
                let ema = match b.ema.is_empty() {
                    true => None,
                    false => Some(upload(&b.ema[var.range()])?),
                };
                state.vars.push(VarBuffers {
                    slots,
                    accumulator,
                    ema,
                });
            }
            state.live = true;
            // The mirror is the state now: the host copies would only double its memory.
            b.release();
        }
        let raw = self.raw_iterations;
        let iterations = self.update_iterations();
        let lr = self.learning_rate.at(raw);
        let accumulate = self
            .options
            .gradient_accumulation_steps
            .map(|steps| Accumulate {
                steps: steps as f32,
                update: (raw + 1).is_multiple_of(steps),
            });
        let updates = accumulate.is_none_or(|a| a.update);
        let step = updates.then(|| {
            self.rule.begin_step(&StepContext {
                learning_rate: lr,
                iterations,
                scheduled: self.learning_rate.is_schedule(),
            })
        });
        let options = &self.options;
        let ema = options.use_ema.then(|| {
            Ema::at(
                iterations,
                options.ema_momentum,
                options.ema_overwrite_frequency,
            )
        });
        let clip_norm = self.clipping.norm_clip();
        let unscale = self.options.loss_scale_factor.map(|s| s as f32);
        // A norm clip needs the whole (accumulated) gradient's norm before any update: a first
        // pass accumulates and sums the squares on the device.
        let norm_pass = clip_norm.filter(|_| updates);
        if let Some(clip) = norm_pass {
            let device = vars.device();
            let count = if clip.global { 1 } else { params.vars.len() };
            match &mut state.sums {
                Some((sums, n)) if *n == count => {
                    device.try_clear_sum_squares(sums).map_err(Error::device)?
                }
                slot => {
                    let sums = device
                        .try_sum_squares(count)
                        .map_err(Error::on_device::<D>("the gradients' norms"))?;
                    *slot = Some((sums, count));
                }
            }
            let Some((sums, _)) = state.sums.as_mut() else {
                return Err(Error::invalid("clipnorm", "no sums of squares"));
            };
            let per_var = &mut state.vars;
            vars.for_each_var(|device, i, _value, grad| {
                if let Some(factor) = unscale {
                    device.try_unscale(grad, factor).map_err(Error::device)?;
                }
                if let (Some(a), Some(acc)) = (accumulate, per_var[i].accumulator.as_mut()) {
                    device
                        .try_accumulate(grad, acc, a.steps)
                        .map_err(Error::device)?;
                }
                let index = if clip.global { 0 } else { i };
                device
                    .try_add_sum_squares(grad, sums, index)
                    .map_err(Error::device)
            })?;
        }
        let stages = Stages {
            // The norm pass has undone the scale already.
            unscale: if norm_pass.is_some() { None } else { unscale },
            accumulate: if norm_pass.is_some() {
                None
            } else {
                accumulate
            },
            clip_value: match self.clipping {
                Clipping::Value(c) => Some(c as f32),
                _ => None,
            },
            clip_norm: norm_pass,
            decay: None,
            ema,
        };
        let rule = &self.rule;
        let sums = state.sums.as_ref().map(|(s, _)| s);
        let per_var = &mut state.vars;
        vars.for_each_var(|device, i, value, grad| {
            let var = params.vars.get(i).ok_or_else(|| {
                Error::invalid("params", "the model has more variables than its layout")
            })?;
            let len = |v: &Buffer<D>| dfdx::tensor::Storage::<f32>::len(device, v);
            if len(value) != var.len || len(grad) != var.len {
                return Err(Error::ShapeMismatch {
                    name: "params",
                    expected: format!("`{}` of {} values", var.name, var.len),
                    got: format!("a buffer of {} values", len(value)),
                });
            }
            let decay = match options.weight_decay {
                Some(wd) if updates && options.decays(&var.name) => Some(Decay {
                    weight_decay: wd as f32,
                    learning_rate: lr,
                }),
                _ => None,
            };
            let stages = Stages { decay, ..stages };
            let norm = norm_pass
                .zip(sums)
                .map(|(clip, sums)| (sums, if clip.global { 0 } else { i }));
            let rule = RuleStep {
                host: step.as_ref().map(|step| {
                    move |w: &mut [f32], g: &[f32], slots: Slots<'_>| {
                        rule.update(step, var, w, g, slots)
                    }
                }),
                elementwise: U::ELEMENTWISE,
                device: match &step {
                    Some(step) => rule.device_update(step),
                    None => Some(DeviceUpdate::accumulate_only()),
                },
                factors: super::adafactor_factors(var),
            };
            device
                .try_update_variable(rule, &stages, norm, value, grad, &mut per_var[i])
                .map_err(Error::device)
        })?;
        self.raw_iterations += 1;
        Ok(true)
    }

    /// The check is one sum of squares over all the (scaled) gradients on the device, read to
    /// the host: one read per step, which the host needs to know whether to count the step.
    fn apply_resident_if_finite<D: KerasDevice, V: ResidentVars<D>>(
        &mut self,
        params: &FlatParams,
        vars: &mut V,
        state: &mut DeviceState<D>,
    ) -> Result<Option<bool>> {
        if !self.runs_resident::<D>(params) {
            return Ok(None);
        }
        let device = vars.device();
        let sums = match &mut state.finite {
            Some(sums) => {
                device.try_clear_sum_squares(sums).map_err(Error::device)?;
                sums
            }
            slot => slot.insert(
                device
                    .try_sum_squares(1)
                    .map_err(Error::on_device::<D>("the gradients' check"))?,
            ),
        };
        vars.for_each_var(|device, _, _, grad| {
            device
                .try_add_sum_squares(grad, sums, 0)
                .map_err(Error::device)
        })?;
        let total = vars
            .device()
            .try_read_sum_squares(sums, 0)
            .map_err(Error::device)?;
        if !total.is_finite() {
            vars.for_each_var(|device, _, _, grad| {
                device.try_fill_with_zeros(grad).map_err(Error::device)
            })?;
            return Ok(Some(false));
        }
        self.apply_resident(params, vars, state).map(Some)
    }

    fn sync_resident<D: KerasDevice>(
        &mut self,
        state: &mut DeviceState<D>,
        device: &D,
    ) -> Result<()> {
        if !state.live {
            return Ok(());
        }
        let Some(b) = self.buffers.as_mut() else {
            return Err(Error::invalid(
                "optimizer state",
                "device slots exist but the optimizer was never built",
            ));
        };
        b.restore();
        let download =
            |src: &Buffer<D>, dst: &mut [f32]| device.try_download(src, dst).map_err(Error::device);
        for (i, var) in state.vars.iter().enumerate() {
            let (offset, len) = b.layout[i];
            let range = offset..offset + len;
            let views = slot_views(&mut b.slots, &b.slot_ranges, i);
            for (view, slot) in views.into_iter().zip(&var.slots) {
                if let Some(slot) = slot {
                    download(slot, view)?;
                }
            }
            if let Some(acc) = &var.accumulator {
                download(acc, &mut b.accumulator[range.clone()])?;
            }
            if let Some(ema) = &var.ema {
                download(ema, &mut b.ema[range])?;
            }
        }
        state.live = false;
        // The host buffers are the state again: the mirror's buffers go back to the device's
        // cache (the next resident step uploads them anew).
        state.vars.clear();
        Ok(())
    }

    fn learning_rate(&self) -> f32 {
        self.learning_rate.at(self.raw_iterations)
    }

    fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        check_learning_rate(lr)?;
        self.learning_rate = LearningRate::Constant(lr);
        Ok(())
    }

    fn iterations(&self) -> u64 {
        self.update_iterations()
    }

    fn finalize(&mut self, params: &mut FlatParams) {
        if let Some(b) = &self.buffers {
            if self.options.use_ema && b.matches(params) && b.ema.len() == params.values.len() {
                params.values.copy_from_slice(&b.ema);
            }
        }
    }

    fn loss_scale(&self) -> f32 {
        self.options.loss_scale_factor.map_or(1.0, |s| s as f32)
    }

    fn state(&self) -> Vec<(String, Vec<f32>)> {
        self.export_state()
    }

    fn keras_spec(&self) -> Option<super::KerasOptimizerSpec> {
        self.spec()
    }

    fn load_state(&mut self, state: &[(String, Vec<f32>)]) -> Result<()> {
        self.import_state(state)
    }

    fn variables(&self) -> Option<Variables> {
        self.variables.clone()
    }

    fn expect_variables(&mut self, variables: Variables) -> Result<()> {
        if self.buffers.is_some() {
            if let Some(reason) = self
                .variables
                .as_deref()
                .and_then(|model| variables_differ(&variables, model))
            {
                return Err(Error::ShapeMismatch {
                    name: "optimizer state",
                    expected: "the variables this optimizer steps".into(),
                    got: reason,
                });
            }
        } else {
            self.variables = Some(variables);
        }
        Ok(())
    }
}

/// The field paths and shapes of `params`' variables, in order.
pub(crate) fn variables_of(params: &FlatParams) -> Variables {
    params
        .vars
        .iter()
        .map(|v| (v.name.clone(), v.shape.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{Adam, Sgd};
    use dfdx::tensor::{Cpu, Storage};

    fn two_vars() -> FlatParams {
        let mut p = FlatParams::from_layout([("kernel", &[2][..]), ("bias", &[1][..])]);
        p.grads.copy_from_slice(&[1.0, 2.0, 3.0]);
        p
    }

    /// Two variables, one long enough to be split across threads (with a cut last piece).
    const LONG: usize = 2 * PARALLEL_MIN_LEN + 4 * 4096 + 37;

    fn long_and_short() -> FlatParams {
        let mut p = FlatParams::from_layout([("kernel", &[LONG][..]), ("bias", &[5][..])]);
        for (i, v) in p.values.iter_mut().enumerate() {
            *v = (i as f32 * 0.37).sin();
        }
        p
    }

    /// A model's own buffers on `Cpu`: one value and one gradient buffer per variable.
    struct CpuVars {
        dev: Cpu,
        values: Vec<CpuBuffer>,
        grads: Vec<CpuBuffer>,
    }

    type CpuBuffer = <Cpu as Storage<f32>>::Vec;

    fn all_equal(buffers: &[CpuBuffer], value: f32) -> bool {
        buffers.iter().all(|b| b.iter().all(|x| *x == value))
    }

    impl CpuVars {
        fn new(p: &FlatParams, values: &[f32], grads: &[f32]) -> Self {
            let dev = Cpu::default();
            let cut = |all: &[f32]| -> Vec<_> {
                p.vars
                    .iter()
                    .map(|v| dev.try_upload(&all[v.range()]).unwrap())
                    .collect()
            };
            let (values, grads) = (cut(values), cut(grads));
            Self { dev, values, grads }
        }

        fn values(&self) -> Vec<f32> {
            self.values.iter().flat_map(|v| v.iter().copied()).collect()
        }
    }

    impl ResidentVars<Cpu> for CpuVars {
        fn device(&self) -> &Cpu {
            &self.dev
        }

        fn for_each_var<F>(&mut self, mut f: F) -> Result<()>
        where
            F: FnMut(&Cpu, usize, &mut CpuBuffer, &mut CpuBuffer) -> Result<()>,
        {
            for (i, (v, g)) in self.values.iter_mut().zip(&mut self.grads).enumerate() {
                f(&self.dev, i, v, g)?;
            }
            Ok(())
        }
    }

    fn gradients(step: usize, len: usize) -> Vec<f32> {
        (0..len)
            .map(|i| ((i * 7 + step * 13) as f32 * 0.11).cos())
            .collect()
    }

    /// A rank-3 variable (Adafactor factors its last two axes) and a vector.
    fn matrices_and_vector() -> FlatParams {
        let mut p = FlatParams::from_layout([("kernel", &[3, 40, 300][..]), ("bias", &[300][..])]);
        for (i, v) in p.values.iter_mut().enumerate() {
            *v = (i as f32 * 0.37).sin();
        }
        p
    }

    /// Three steps of `make()` on flat buffers and resident, with a sync after the second.
    fn resident_matches_flat(make: impl Fn() -> KerasOptimizer<Adam> + Send + Sync) {
        resident_matches_flat_on(long_and_short, "momentum", make);
    }

    /// Three steps of `make()` on `layout()`'s variables, on flat buffers and resident, with a
    /// sync after the second: the same bits, and the rule's slot `slot` (as long as the
    /// variables) released on the host while the device holds it.
    fn resident_matches_flat_on<U: UpdateRule + Send>(
        layout: fn() -> FlatParams,
        slot: &str,
        make: impl Fn() -> KerasOptimizer<U> + Send + Sync,
    ) {
        crate::kernels::in_pool(2, || {
            let (mut opt_flat, mut opt_resident) = (make(), make());
            let mut flat = layout();
            let layout = layout();
            let mut state = DeviceState::<Cpu>::default();
            let mut model = CpuVars::new(&layout, &layout.values, &layout.grads);
            for step in 0..3 {
                let g = gradients(step, flat.grads.len());
                flat.grads.copy_from_slice(&g);
                opt_flat.apply(&mut flat).unwrap();
                model = CpuVars {
                    grads: CpuVars::new(&layout, &layout.values, &g).grads,
                    ..model
                };
                let done = opt_resident
                    .apply_resident(&layout, &mut model, &mut state)
                    .unwrap();
                assert!(done, "the step runs resident");
                assert!(state.is_live());
                assert_eq!(
                    opt_resident.slot(slot).map(<[f32]>::len),
                    Some(0),
                    "the host copy is released while the device holds the state"
                );
                assert_eq!(model.values(), flat.values, "step {step}");
                assert!(all_equal(&model.grads, 0.0), "zeroed");
                if step == 1 {
                    opt_resident
                        .sync_resident(&mut state, &Cpu::default())
                        .unwrap();
                    assert!(!state.is_live());
                    assert_eq!(
                        opt_resident.slot(slot).map(<[f32]>::len),
                        Some(flat.values.len()),
                        "given back by the sync"
                    );
                    assert_eq!(opt_resident.state(), opt_flat.state(), "synced state");
                }
            }
            assert_ne!(opt_resident.state(), opt_flat.state(), "stale until synced");
            opt_resident
                .sync_resident(&mut state, &Cpu::default())
                .unwrap();
            assert_eq!(opt_resident.state(), opt_flat.state());
        });
    }

    #[test]
    fn the_resident_step_gives_the_bits_of_the_flat_step() {
        resident_matches_flat(|| Adam::new().with_learning_rate(0.01).build().unwrap());
    }

    #[test]
    fn accumulation_clipvalue_and_ema_are_folded_into_the_resident_step_with_the_same_bits() {
        resident_matches_flat(|| {
            Adam::new()
                .with_learning_rate(0.01)
                .with_gradient_accumulation_steps(2)
                .with_clipvalue(0.5)
                .with_ema(0.9)
                .with_ema_overwrite_frequency(3)
                .build()
                .unwrap()
        });
    }

    #[test]
    fn norm_clips_take_a_first_pass_and_give_the_bits_of_the_flat_step() {
        for global in [false, true] {
            resident_matches_flat(|| {
                let b = Adam::new()
                    .with_learning_rate(0.01)
                    .with_gradient_accumulation_steps(2);
                // Small enough to clip the long variable's gradient, large enough to leave the
                // short one's alone.
                let b = if global {
                    b.with_global_clipnorm(20.0)
                } else {
                    b.with_clipnorm(2.0)
                };
                b.build().unwrap()
            });
        }
    }

    #[test]
    fn weight_decay_is_folded_into_the_resident_step_with_the_same_bits() {
        resident_matches_flat(|| {
            Adam::new()
                .with_learning_rate(0.01)
                .with_weight_decay(0.05)
                .with_exclude_from_weight_decay(["bias"])
                .build()
                .unwrap()
        });
    }

    #[test]
    fn lamb_runs_resident_with_the_bits_of_the_flat_step() {
        use crate::optimizers::Lamb;
        for layout in [long_and_short, matrices_and_vector] {
            resident_matches_flat_on(layout, "momentum", || {
                Lamb::new().with_learning_rate(0.01).build().unwrap()
            });
            resident_matches_flat_on(layout, "momentum", || {
                Lamb::new()
                    .with_learning_rate(0.01)
                    .with_weight_decay(0.05)
                    .with_exclude_from_weight_decay(["bias"])
                    .with_gradient_accumulation_steps(2)
                    .with_clipnorm(2.0)
                    .with_ema(0.9)
                    .with_ema_overwrite_frequency(3)
                    .build()
                    .unwrap()
            });
        }
    }

    #[test]
    fn adafactor_runs_resident_with_the_bits_of_the_flat_step() {
        use crate::optimizers::Adafactor;
        // `long_and_short`: vectors, a full second moment; `matrices_and_vector`: a factored
        // one (three 40 x 300 matrices) and a full one.
        for layout in [long_and_short, matrices_and_vector] {
            resident_matches_flat_on(layout, "velocity", || {
                Adafactor::new().with_learning_rate(0.01).build().unwrap()
            });
            resident_matches_flat_on(layout, "velocity", || {
                Adafactor::new()
                    .with_learning_rate(0.01)
                    .with_clip_threshold(0.5)
                    .with_weight_decay(0.05)
                    .with_gradient_accumulation_steps(2)
                    .with_global_clipnorm(20.0)
                    .with_ema(0.9)
                    .build()
                    .unwrap()
            });
            resident_matches_flat_on(layout, "velocity", || {
                Adafactor::new()
                    .with_relative_step(false)
                    .with_clipvalue(0.5)
                    .build()
                    .unwrap()
            });
        }
    }

    #[test]
    fn loss_scales_are_undone_in_the_resident_step_with_the_same_bits() {
        resident_matches_flat(|| {
            Adam::new()
                .with_learning_rate(0.01)
                .with_loss_scale_factor(8.0)
                .with_gradient_accumulation_steps(2)
                .with_clipvalue(0.05)
                .with_ema(0.9)
                .build()
                .unwrap()
        });
        resident_matches_flat_on(matrices_and_vector, "momentum", || {
            crate::optimizers::Lamb::new()
                .with_loss_scale_factor(0.75)
                .build()
                .unwrap()
        });
        // With a norm clip the scale is undone in the clip's first pass, before the norm.
        resident_matches_flat(|| {
            Adam::new()
                .with_learning_rate(0.01)
                .with_loss_scale_factor(8.0)
                .with_gradient_accumulation_steps(2)
                .with_global_clipnorm(0.5)
                .build()
                .unwrap()
        });
        resident_matches_flat(|| {
            Adam::new()
                .with_learning_rate(0.01)
                .with_loss_scale_factor(0.25)
                .with_clipnorm(0.05)
                .with_weight_decay(0.05)
                .build()
                .unwrap()
        });
    }

    #[test]
    fn a_non_finite_gradient_skips_the_resident_step_and_a_finite_one_takes_it() {
        let layout = long_and_short();
        let make = || {
            Adam::new()
                .with_learning_rate(0.01)
                .with_loss_scale_factor(4.0)
                .build()
                .unwrap()
        };
        let (mut opt, mut flat_opt) = (make(), make());
        let mut state = DeviceState::<Cpu>::default();
        for bad in [f32::NAN, f32::INFINITY] {
            let mut g = gradients(0, layout.values.len());
            g[LONG + 2] = bad;
            let mut model = CpuVars::new(&layout, &layout.values, &g);
            let applied = opt
                .apply_resident_if_finite(&layout, &mut model, &mut state)
                .unwrap();
            assert_eq!(applied, Some(false), "{bad} skips");
            assert_eq!(model.values(), layout.values, "values untouched");
            assert!(all_equal(&model.grads, 0.0), "gradients zeroed");
            assert_eq!(opt.iterations(), 0);
        }
        let g = gradients(0, layout.values.len());
        let mut model = CpuVars::new(&layout, &layout.values, &g);
        let applied = opt
            .apply_resident_if_finite(&layout, &mut model, &mut state)
            .unwrap();
        assert_eq!(applied, Some(true));
        assert!(state.is_live());
        let mut flat = long_and_short();
        flat.grads.copy_from_slice(&g);
        flat_opt.apply(&mut flat).unwrap();
        assert_eq!(model.values(), flat.values, "the host step's bits");
        assert_eq!(opt.iterations(), 1);
    }

    #[test]
    fn a_missing_gradient_declines_the_resident_step() {
        let mut missing = long_and_short();
        missing.set_has_grad(1, false);
        let ones = vec![1.0; missing.values.len()];
        let mut opt = Sgd::new().build().unwrap();
        let mut model = CpuVars::new(&missing, &missing.values, &ones);
        let mut state = DeviceState::<Cpu>::default();
        assert!(!opt
            .apply_resident(&missing, &mut model, &mut state)
            .unwrap());
        assert_eq!(model.values(), missing.values, "values untouched");
        assert!(all_equal(&model.grads, 1.0), "grads untouched");
        assert_eq!(opt.iterations(), 0);
        assert!(!state.is_live());
        assert_eq!(
            opt.apply_resident_if_finite(&missing, &mut model, &mut state)
                .unwrap(),
            None
        );
        assert!(all_equal(&model.grads, 1.0), "grads untouched");
    }

    #[test]
    fn a_missing_gradient_fails_the_step_by_default() {
        let mut opt = Sgd::new().build().unwrap();
        let mut p = two_vars();
        p.set_has_grad(1, false);
        let err = opt.apply(&mut p).unwrap_err();
        assert!(matches!(err, Error::MissingGradient { name } if name == "bias"));
        assert_eq!(opt.iterations(), 0);
        assert_eq!(p.values, [0.0; 3]);
    }

    #[test]
    fn allowed_missing_gradients_skip_the_variable_as_keras_does() {
        let mut opt = Sgd::new()
            .with_learning_rate(0.5)
            .with_weight_decay(0.1)
            .with_allow_missing_gradients(true)
            .build()
            .unwrap();
        let mut p = two_vars();
        p.values[2] = 1.0;
        p.set_has_grad(1, false);
        opt.apply(&mut p).unwrap();
        assert_eq!(
            p.values,
            [-0.5, -1.0, 1.0],
            "no update and no decay for `bias`"
        );
        p.set_has_grad(0, false);
        assert!(opt.apply(&mut p).is_err(), "no gradient at all is an error");
    }

    #[test]
    fn set_learning_rate_validates_and_replaces_a_schedule() {
        let decay = crate::optimizers::schedules::ExponentialDecay::new(1.0, 1, 0.5).unwrap();
        let mut opt = Sgd::new().with_schedule(decay).build().unwrap();
        assert!(opt.set_learning_rate(-1.0).is_err());
        assert!(opt.set_learning_rate(f32::NAN).is_err());
        opt.set_learning_rate(0.25).unwrap();
        let mut p = two_vars();
        opt.apply(&mut p).unwrap();
        assert_eq!(opt.learning_rate(), 0.25);
        let mut fresh = Sgd::new()
            .with_schedule(
                crate::optimizers::schedules::ExponentialDecay::new(1.0, 1, 0.5).unwrap(),
            )
            .build()
            .unwrap();
        fresh.load_state(&opt.state()).unwrap();
        assert_eq!(
            fresh.learning_rate(),
            0.25,
            "a constant set at run time is restored"
        );
    }

    #[test]
    fn a_changed_layout_is_a_shape_mismatch() {
        let mut opt = Adam::new().build().unwrap();
        let mut p = two_vars();
        opt.apply(&mut p).unwrap();
        let mut other = FlatParams::from_layout([("kernel", &[3][..])]);
        assert!(matches!(
            opt.apply(&mut other),
            Err(Error::ShapeMismatch { .. })
        ));
        p.grads.pop();
        assert!(matches!(
            opt.apply(&mut p),
            Err(Error::ShapeMismatch { .. })
        ));
    }

    #[test]
    fn no_parameters_is_a_no_op_as_in_keras() {
        let mut opt = Adam::new().build().unwrap();
        opt.apply(&mut FlatParams::default()).unwrap();
        assert_eq!(opt.iterations(), 0);
        assert!(!opt.is_built());
    }

    #[test]
    fn default_builds_the_keras_defaults() {
        let opt = KerasOptimizer::<Adam>::default();
        assert_eq!(opt.learning_rate(), 0.001);
        assert_eq!(opt.rule().beta_2(), 0.999);
        assert_eq!(KerasOptimizer::<Sgd>::default().learning_rate(), 0.01);
    }

    /// Three steps of a fresh optimizer from `make` on one variable long enough to be split into
    /// parallel blocks, and on the same values cut into variables too short to be split: an
    /// elementwise rule gives the same values either way.
    fn updates_the_same_in_blocks<O: Optimizer + Send>(make: impl Fn() -> O) {
        let len = 3 * PARALLEL_MIN_LEN + 100;
        let piece = PARALLEL_MIN_LEN / 4;
        let names: Vec<String> = (0..len.div_ceil(piece)).map(|i| format!("w{i}")).collect();
        let shapes: Vec<[usize; 1]> = (0..names.len())
            .map(|i| [piece.min(len - i * piece)])
            .collect();
        let mut whole = FlatParams::from_layout([("w", &[len][..])]);
        let mut pieces = FlatParams::from_layout(
            names
                .iter()
                .map(String::as_str)
                .zip(shapes.iter().map(|s| &s[..])),
        );
        for (i, v) in whole.values.iter_mut().enumerate() {
            *v = ((i * 37) % 101) as f32 / 101.0 - 0.5;
        }
        pieces.values.copy_from_slice(&whole.values);
        let (mut a, mut b) = (make(), make());
        // Two threads even on a one-core machine, so the blocks really run in parallel.
        crate::kernels::in_pool(2, || {
            for step in 0..3 {
                for (i, g) in whole.grads.iter_mut().enumerate() {
                    *g = (((i + step) * 53) % 97) as f32 / 97.0 - 0.5;
                }
                pieces.grads.copy_from_slice(&whole.grads);
                a.apply(&mut whole).unwrap();
                b.apply(&mut pieces).unwrap();
            }
        });
        assert!(whole.values.iter().zip(&pieces.values).all(|(x, y)| x == y));
        assert_ne!(whole.values[0], -0.5, "the values moved");
    }

    #[test]
    fn elementwise_rules_update_long_variables_in_blocks_with_the_same_result() {
        use crate::optimizers::{Adadelta, Adagrad, AdamW, Adamax, Ftrl, Lion, Nadam, RMSprop};
        updates_the_same_in_blocks(|| Adam::new().build().unwrap());
        updates_the_same_in_blocks(|| Adam::new().with_amsgrad(true).build().unwrap());
        updates_the_same_in_blocks(|| AdamW::new().with_weight_decay(0.004).build().unwrap());
        updates_the_same_in_blocks(|| {
            Sgd::new()
                .with_momentum(0.9)
                .with_nesterov(true)
                .build()
                .unwrap()
        });
        updates_the_same_in_blocks(|| {
            RMSprop::new()
                .with_momentum(0.5)
                .with_centered(true)
                .build()
                .unwrap()
        });
        updates_the_same_in_blocks(|| Adagrad::new().build().unwrap());
        updates_the_same_in_blocks(|| Adadelta::new().with_learning_rate(1.0).build().unwrap());
        updates_the_same_in_blocks(|| Adamax::new().build().unwrap());
        updates_the_same_in_blocks(|| Nadam::new().build().unwrap());
        updates_the_same_in_blocks(|| Lion::new().build().unwrap());
        updates_the_same_in_blocks(|| Ftrl::new().build().unwrap());
    }
}
