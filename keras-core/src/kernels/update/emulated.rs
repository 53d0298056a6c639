//! `update.cu`'s kernels, run on the CPU by the emulation (`cuda-emulation`) with the plans
//! `cuda_kernel.rs` launches, against what `Cpu` runs (`KerasDevice::try_update_variable`): every
//! rule with a device kernel, over several steps, inside every stage (loss-scale undo,
//! accumulation, `clipvalue`, `clipnorm`, `global_clipnorm`, weight decay, EMA and its overwrite).
//!
//! The elementwise rules must agree bit for bit: `update.cu` repeats the host formulas operation
//! for operation without fused multiply-adds. Lamb and Adafactor reduce norms and means in a
//! block's tree, the host in order: they agree within a few ulps.

use dfdx::tensor::{Cpu, Storage};

use super::launch::{self, plan, UpdateAddresses, ACCUMULATE, NAMES, SUM_SQUARES, UNSCALE};
use super::{Accumulate, Decay, DeviceUpdate, Ema, NormClip, RuleStep, Stages, VarBuffers};
use crate::device::{Buffer, KerasDevice};
use crate::kernels::emulation::{
    address, assert_kernels_exist, launch, samples::assert_close, samples::Samples,
};
use crate::optimizers::{
    adafactor_factors, Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, Ftrl, Lamb, Lion, Nadam,
    OptimizerBuilder, RMSprop, Sgd, StepContext, UpdateRule, VarInfo,
};
use crate::state::FlatParams;

/// One variable's buffers on the host: values, gradient, slots (`None` where the rule keeps
/// none for this variable), accumulator and moving average.
#[derive(Debug, Clone, PartialEq)]
struct Var {
    value: Vec<f32>,
    grad: Vec<f32>,
    slots: Vec<Option<Vec<f32>>>,
    accumulator: Option<Vec<f32>>,
    ema: Option<Vec<f32>>,
}

fn cpu_buffer(dev: &Cpu, values: &[f32]) -> Buffer<Cpu> {
    let mut b = Storage::<f32>::try_alloc_len(dev, values.len()).expect("host memory");
    b.copy_from_slice(values);
    b
}

impl Var {
    /// The buffers `rule` keeps for `var`, its values drawn from `s`; an accumulator and a
    /// moving average when `stages` use them.
    fn new<U: UpdateRule>(rule: &U, var: &VarInfo, stages: &Stages, s: &mut Samples) -> Self {
        let slots = (0..rule.slot_names().len())
            .map(|k| match rule.slot_len(k, var) {
                0 => None,
                len => Some(vec![rule.slot_init(k); len]),
            })
            .collect();
        Var {
            value: s.between(var.len, -1.0, 1.0),
            grad: vec![0.0; var.len],
            slots,
            accumulator: stages.accumulate.map(|_| vec![0.0; var.len]),
            ema: stages.ema.map(|_| s.between(var.len, -1.0, 1.0)),
        }
    }

    /// One step on `Cpu`, as the optimizer runs it there.
    fn step_on_cpu<F: Fn(&mut [f32], &[f32], super::Slots<'_>) + Sync>(
        &mut self,
        rule: RuleStep<F>,
        stages: &Stages,
        norm_sum: Option<f64>,
    ) {
        let dev = Cpu::default();
        let mut value = cpu_buffer(&dev, &self.value);
        let mut grad = cpu_buffer(&dev, &self.grad);
        let mut state = VarBuffers {
            slots: self
                .slots
                .iter()
                .map(|s| s.as_deref().map(|s| cpu_buffer(&dev, s)))
                .collect(),
            accumulator: self.accumulator.as_deref().map(|a| cpu_buffer(&dev, a)),
            ema: self.ema.as_deref().map(|e| cpu_buffer(&dev, e)),
        };
        let sums = norm_sum.map(|s| vec![s]);
        let norm = sums.as_ref().map(|s| (s, 0));
        dev.try_update_variable(rule, stages, norm, &mut value, &mut grad, &mut state)
            .expect("the CPU step runs");
        self.value.copy_from_slice(&value);
        self.grad.copy_from_slice(&grad);
        for (to, from) in self.slots.iter_mut().zip(&state.slots) {
            if let (Some(to), Some(from)) = (to, from) {
                to.copy_from_slice(from);
            }
        }
        if let (Some(to), Some(from)) = (&mut self.accumulator, &state.accumulator) {
            to.copy_from_slice(from);
        }
        if let (Some(to), Some(from)) = (&mut self.ema, &state.ema) {
            to.copy_from_slice(from);
        }
    }

    /// One step on the emulated kernels, with the plan `cuda_kernel.rs` launches.
    fn step_emulated(
        &mut self,
        update: &DeviceUpdate,
        stages: &Stages,
        factors: Option<(usize, usize, usize)>,
        norm_sum: Option<&f64>,
    ) {
        let present: Vec<bool> = self.slots.iter().map(Option::is_some).collect();
        let Some(plan) = plan(update, stages, self.value.len(), factors, &present).expect("a plan")
        else {
            return;
        };
        let mut_address =
            |b: &mut Option<Vec<f32>>| b.as_mut().map_or(0, |b| b.as_mut_ptr() as u64);
        let mut slots = [0u64; 3];
        for (to, slot) in slots.iter_mut().zip(self.slots.iter_mut()) {
            *to = mut_address(slot);
        }
        let at = UpdateAddresses {
            value: self.value.as_mut_ptr() as u64,
            grad: self.grad.as_mut_ptr() as u64,
            slots,
            accumulator: mut_address(&mut self.accumulator),
            ema: mut_address(&mut self.ema),
            norm_sum: norm_sum.map_or(0, |s| s as *const f64 as u64),
        };
        match plan.scratch {
            None => {
                let (name, shape) = plan.passes()[0];
                // SAFETY: every address is one of this variable's buffers, as long as the
                // kernel reads for `n` values (the slots as long as the rule asks), written only
                // through the kernel for the call.
                unsafe { launch(name, shape, &plan.params(&at)) }.expect("the kernel runs");
            }
            Some(len) => {
                let mut scratch = vec![0.0f32; len];
                let p = plan.pass_params(&at, scratch.as_mut_ptr() as u64);
                for &(name, shape) in plan.passes() {
                    // SAFETY: as above, and the scratch floats the passes share.
                    unsafe { launch(name, shape, &p) }.expect("the pass runs");
                }
            }
        }
    }

    fn assert_matches(&self, cpu: &Var, what: &str, exact: bool) {
        let check = |part: &str, got: &[f32], want: &[f32]| {
            let what = format!("{what}: {part}");
            if exact {
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(got), bits(want), "{what} (bit for bit)");
            } else {
                assert_close(&what, got, want, 1e-5);
            }
        };
        check("values", &self.value, &cpu.value);
        assert!(
            self.grad.iter().all(|&g| g == 0.0),
            "{what}: the gradient is zeroed"
        );
        for (k, (got, want)) in self.slots.iter().zip(&cpu.slots).enumerate() {
            assert_eq!(got.is_some(), want.is_some());
            if let (Some(got), Some(want)) = (got, want) {
                check(&format!("slot {k}"), got, want);
            }
        }
        if let (Some(got), Some(want)) = (&self.accumulator, &cpu.accumulator) {
            check("accumulator", got, want);
        }
        if let (Some(got), Some(want)) = (&self.ema, &cpu.ema) {
            check("moving average", got, want);
        }
    }
}

/// The sum of squares of `grad` on the emulated `keras_sum_squares` (one block of 1024), with
/// the plan `launch_sum_squares` launches.
fn emulated_sum_squares(grad: &[f32]) -> f64 {
    let mut sum = 0.0f64;
    let (shape, params) =
        launch::sum_squares(grad.len(), address(grad), &mut sum as *mut f64 as u64)
            .expect("a gradient to sum");
    // SAFETY: the kernel reads `grad` and adds to `sum`.
    unsafe { launch(SUM_SQUARES, shape, &params) }.expect("the kernel runs");
    sum
}

/// The stages each case runs at step `t` (of `steps`): `stages(t)`.
type StagesAt = fn(u64) -> Stages;

/// Every stage the kernels take, one case each.
fn stage_cases() -> Vec<(&'static str, StagesAt)> {
    vec![
        ("no stage", |_| Stages::default()),
        ("clipvalue and weight decay", |_| Stages {
            clip_value: Some(0.3),
            decay: Some(Decay {
                weight_decay: 0.04,
                learning_rate: 0.01,
            }),
            ..Stages::default()
        }),
        ("EMA, overwritten every other step", |t| Stages {
            ema: Some(Ema::at(t, 0.9, Some(2))),
            ..Stages::default()
        }),
        ("two accumulation steps", |t| Stages {
            accumulate: Some(Accumulate {
                steps: 2.0,
                update: t % 2 == 1,
            }),
            ..Stages::default()
        }),
        ("a loss scale's undo", |_| Stages {
            unscale: Some(64.0),
            ..Stages::default()
        }),
        ("clipnorm", |_| Stages {
            clip_norm: Some(NormClip {
                global: false,
                clip: 0.5,
                inv_clip: 2.0,
            }),
            ..Stages::default()
        }),
        ("global_clipnorm", |_| Stages {
            clip_norm: Some(NormClip {
                global: true,
                clip: 0.5,
                inv_clip: 2.0,
            }),
            ..Stages::default()
        }),
    ]
}

/// Runs `rule` over a variable of `shape` for four steps of every stage case, on `Cpu` and on
/// the emulated kernels, and asserts that they agree after every step.
fn agrees_with_cpu<U: UpdateRule + Clone>(
    name: &str,
    builder: OptimizerBuilder<U>,
    shapes: &[&[usize]],
) {
    let exact = U::ELEMENTWISE;
    for shape in shapes {
        let params = FlatParams::from_layout([("dense.kernel", *shape)]);
        let var = &params.vars[0];
        for (case, stages_at) in stage_cases() {
            let mut rule = builder.rule.clone();
            let mut s = Samples::new(var.len as u64 + case.len() as u64);
            let mut cpu = Var::new(&rule, var, &stages_at(0), &mut s);
            let mut emulated = cpu.clone();
            let start = cpu.value.clone();
            let mut iterations = 0;
            for t in 0..4u64 {
                let stages = stages_at(t);
                // Gradients with a few large values, so that the clips act.
                let mut grad = s.between(var.len, -1.0, 1.0);
                grad.iter_mut().step_by(7).for_each(|g| *g *= 40.0);
                cpu.grad.copy_from_slice(&grad);
                emulated.grad.copy_from_slice(&grad);
                let updates = stages.updates();
                let step = updates.then(|| {
                    let ctx = StepContext {
                        learning_rate: 0.01,
                        iterations,
                        scheduled: false,
                    };
                    rule.begin_step(&ctx)
                });
                iterations += u64::from(updates);
                let device = match &step {
                    Some(step) => rule.device_update(step).expect("the rule has a kernel"),
                    None => DeviceUpdate::accumulate_only(),
                };
                let factors = adafactor_factors(var);
                let (cpu_sum, emulated_sum) = match stages.clip_norm {
                    Some(_) => {
                        let want = super::sum_squares(&grad);
                        let got = emulated_sum_squares(&grad);
                        assert!((got - want).abs() <= 1e-12 * want, "{name}: sum of squares");
                        (Some(want), Some(got))
                    }
                    None => (None, None),
                };
                let r = &rule;
                let host = step.as_ref().map(|step| {
                    move |w: &mut [f32], g: &[f32], slots: super::Slots<'_>| {
                        r.update(step, var, w, g, slots)
                    }
                });
                let rule_step = RuleStep {
                    host,
                    elementwise: exact,
                    device: Some(device),
                    factors,
                };
                cpu.step_on_cpu(rule_step, &stages, cpu_sum);
                emulated.step_emulated(&device, &stages, factors, emulated_sum.as_ref());
                let what = format!("{name}, shape {shape:?}, {case}, step {t}");
                emulated.assert_matches(&cpu, &what, exact);
            }
            assert_ne!(
                cpu.value, start,
                "{name}, {case}: the steps changed the values"
            );
        }
    }
}

/// Shapes over one block and over several, with a ragged last block.
const SHAPES: &[&[usize]] = &[&[5], &[3, 1000]];

#[test]
fn sgd_plain_momentum_and_nesterov_agree_with_the_cpu_bit_for_bit() {
    agrees_with_cpu("SGD", Sgd::new(), SHAPES);
    agrees_with_cpu("SGD momentum", Sgd::new().with_momentum(0.9), SHAPES);
    agrees_with_cpu(
        "SGD Nesterov",
        Sgd::new().with_momentum(0.9).with_nesterov(true),
        SHAPES,
    );
}

#[test]
fn the_adam_family_agrees_with_the_cpu_bit_for_bit() {
    agrees_with_cpu("Adam", Adam::new(), SHAPES);
    agrees_with_cpu("Adam amsgrad", Adam::new().with_amsgrad(true), SHAPES);
    agrees_with_cpu("AdamW", AdamW::new(), SHAPES);
    agrees_with_cpu("Adamax", Adamax::new(), SHAPES);
    agrees_with_cpu("Nadam", Nadam::new(), SHAPES);
}

#[test]
fn rmsprop_adagrad_adadelta_lion_and_ftrl_agree_with_the_cpu_bit_for_bit() {
    agrees_with_cpu("RMSprop", RMSprop::new(), SHAPES);
    let centred = RMSprop::new().with_momentum(0.5).with_centered(true);
    agrees_with_cpu("RMSprop momentum centred", centred, SHAPES);
    agrees_with_cpu("Adagrad", Adagrad::new(), SHAPES);
    agrees_with_cpu("Adadelta", Adadelta::new(), SHAPES);
    agrees_with_cpu("Lion", Lion::new(), SHAPES);
    agrees_with_cpu("Ftrl", Ftrl::new(), SHAPES);
    let ftrl = Ftrl::new()
        .with_l1_regularization_strength(0.01)
        .with_l2_regularization_strength(0.02)
        .with_l2_shrinkage_regularization_strength(0.01)
        .with_beta(0.1);
    agrees_with_cpu("Ftrl regularized", ftrl, SHAPES);
}

#[test]
fn lamb_and_adafactor_agree_with_the_cpu_within_a_few_ulps() {
    agrees_with_cpu("Lamb", Lamb::new(), SHAPES);
    // Adafactor factors a matrix (and a batch of them) and keeps a vector's full moment.
    agrees_with_cpu(
        "Adafactor",
        Adafactor::new(),
        &[&[5], &[3, 40], &[2, 3, 50]],
    );
    agrees_with_cpu(
        "Adafactor relative step",
        Adafactor::new().with_relative_step(false),
        &[&[3, 40]],
    );
}

#[test]
fn the_norm_clips_first_pass_unscales_and_accumulates_as_the_cpu_does() {
    // A clip's first pass (`launch_unscale`, `launch_accumulate`, `launch_sum_squares` on every
    // variable) ahead of the update: over one block and several.
    for n in [1usize, 1000, 2500] {
        let mut s = Samples::new(n as u64);
        let grad = s.between(n, -50.0, 50.0);
        let accumulator = s.between(n, -5.0, 5.0);
        let (mut cpu_grad, mut cpu_acc) = (grad.clone(), accumulator.clone());
        super::unscale(&mut cpu_grad, 64.0);
        Accumulate {
            steps: 3.0,
            update: true,
        }
        .apply(&mut cpu_grad, &mut cpu_acc);
        let (mut g, mut acc) = (grad, accumulator);
        let (shape, params) = launch::unscale(n, 64.0, g.as_mut_ptr() as u64).expect("n > 0");
        // SAFETY: the kernel reads and writes the `n` floats of `g`.
        unsafe { launch(UNSCALE, shape, &params) }.expect("the kernel runs");
        let (gp, ap) = (g.as_mut_ptr() as u64, acc.as_mut_ptr() as u64);
        let (shape, params) = launch::accumulate(n, 3.0, gp, ap).expect("n > 0");
        // SAFETY: the kernel reads and writes the `n` floats of `g` and `acc`.
        unsafe { launch(ACCUMULATE, shape, &params) }.expect("the kernel runs");
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&g), bits(&cpu_grad), "{n}: the gradient, bit for bit");
        assert!(acc.iter().all(|&a| a == 0.0) && cpu_acc.iter().all(|&a| a == 0.0));
        let (want, got) = (super::sum_squares(&g), emulated_sum_squares(&g));
        assert!(
            (got - want).abs() <= 1e-12 * want,
            "{n}: the sum of squares, {got} against {want}"
        );
    }
    assert!(
        launch::unscale(0, 2.0, 0).is_none(),
        "an empty variable launches nothing"
    );
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
