//! The part each optimizer file supplies: hyper-parameters, slots and the per-variable update.

use super::VarInfo;
use crate::kernels::DeviceUpdate;
use crate::{Error, Result};

pub use crate::kernels::update::{Slots, MAX_SLOTS};

/// What an update step knows besides the gradients: Keras's `learning_rate` argument of
/// `update_step` and the optimizer's `iterations`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::StepContext;
/// let ctx = StepContext { learning_rate: 0.01, iterations: 0, scheduled: false };
/// // Adam's bias corrections use t = iterations + 1.
/// assert_eq!(ctx.iterations + 1, 1);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepContext {
    /// The learning rate in effect (a schedule already evaluated at the raw step count).
    pub learning_rate: f32,
    /// Keras's `optimizer.iterations` before this step: the number of completed update steps
    /// (calls divided by `gradient_accumulation_steps`). Bias corrections use `iterations + 1`.
    pub iterations: u64,
    /// Whether the learning rate comes from a schedule (Keras's `callable(learning_rate)`),
    /// which Adafactor's `relative_step` looks at.
    pub scheduled: bool,
}

/// An optimizer's own numerics, driven by [`KerasOptimizer`](super::KerasOptimizer).
///
/// The base does everything Keras's `BaseOptimizer` does (loss-scale undo, gradient
/// accumulation, clipping, weight decay, EMA, iteration counting); an implementation supplies
/// only its hyper-parameters, its slots and Keras's `update_step` on one variable.
///
/// # Examples
/// A plain gradient-descent rule:
/// ```
/// use keras_core::optimizers::{FlatParams, Optimizer, OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
///
/// #[derive(Debug, Clone, Default)]
/// struct Plain;
///
/// impl UpdateRule for Plain {
///     const NAME: &'static str = "plain";
///     type Step = f32;
///     fn begin_step(&mut self, ctx: &StepContext) -> f32 {
///         ctx.learning_rate
///     }
///     fn update(&self, lr: &f32, _: &VarInfo, value: &mut [f32], grad: &[f32], _: Slots<'_>) {
///         for (w, g) in value.iter_mut().zip(grad) {
///             *w -= g * lr;
///         }
///     }
/// }
///
/// let mut opt = OptimizerBuilder::new(Plain, 0.5).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 2.0;
/// opt.apply(&mut params).unwrap();
/// assert_eq!(params.values[0], -1.0);
/// ```
pub trait UpdateRule: Sync {
    /// Keras's default optimizer name (`"adam"`, `"SGD"`, ...).
    const NAME: &'static str;

    /// Keras's default learning rate for this optimizer (`0.001`; SGD: `0.01`).
    const DEFAULT_LEARNING_RATE: f32 = 0.001;

    /// Whether the optimizer requires `weight_decay` to be set (AdamW). Defaults to `false`.
    const NEEDS_WEIGHT_DECAY: bool = false;

    /// Whether [`update`](UpdateRule::update) treats every element on its own (no norm, sum or
    /// shape of the variable; every slot as long as the variable or empty). The base then splits
    /// large variables into blocks updated on rayon's threads. Defaults to `false`.
    const ELEMENTWISE: bool = false;

    /// Whether [`device_update`](UpdateRule::device_update) describes every step to the rule's
    /// device kernels (`update.cu`: one for an elementwise rule, a few passes for Lamb and
    /// Adafactor), so that the step can run on `Cuda` where the variables are. Defaults to
    /// `false`.
    const DEVICE_KERNEL: bool = false;

    /// Values computed once per update step and shared by all variables (bias corrections, ...).
    type Step: Sync;

    /// Checks the hyper-parameters; called by [`OptimizerBuilder::build`](super::OptimizerBuilder::build).
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Keras's class name and the rule's own `get_config()` keys (`beta_1`, `momentum`, ...),
    /// for `.keras` files; `None` (the default) for a rule whose Keras config is not written.
    fn keras_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        None
    }

    /// The order Keras creates the slots in: groups of slot names, each group interleaved
    /// variable by variable. The default is one group of all [`slot_names`](Self::slot_names).
    fn keras_slot_groups(&self) -> Vec<&'static [&'static str]> {
        vec![self.slot_names()]
    }

    /// Names of the slots, at most [`MAX_SLOTS`] (e.g. `["momentum", "velocity"]`).
    fn slot_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Number of values slot `slot` holds for `var`. Defaults to the variable's length.
    fn slot_len(&self, _slot: usize, var: &VarInfo) -> usize {
        var.len
    }

    /// The value slot `slot` starts at. Defaults to `0`.
    fn slot_init(&self, _slot: usize) -> f32 {
        0.0
    }

    /// Called once per update step, before the per-variable updates (Keras's
    /// `_backend_update_step`). Not called on gradient-accumulation calls that only accumulate.
    fn begin_step(&mut self, ctx: &StepContext) -> Self::Step;

    /// Keras's `update_step` on one variable: updates `value` (and the slots) from `grad`.
    fn update(
        &self,
        step: &Self::Step,
        var: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    );

    /// This step for the rule's device kernel: which kernel, the step's scalars and the rule's
    /// flags (see [`crate::kernels::update`]). `None` (the default) when the rule has none; a rule
    /// with [`DEVICE_KERNEL`](UpdateRule::DEVICE_KERNEL) must return `Some`.
    fn device_update(&self, step: &Self::Step) -> Option<DeviceUpdate> {
        let _ = step;
        None
    }

    /// Scalar optimizer variables outside the slots (Nadam's `u_product`), for checkpoints.
    fn scalars(&self) -> Vec<(&'static str, f32)> {
        Vec::new()
    }

    /// Restores a scalar written by [`UpdateRule::scalars`]; returns `false` for an unknown name.
    fn set_scalar(&mut self, _name: &str, _value: f32) -> bool {
        false
    }
}

/// `Err(InvalidArgument)` unless `value` is in `[0, 1)` (Adam-style betas).
pub(crate) fn check_beta(name: &'static str, value: f64) -> Result<()> {
    if (0.0..1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!("must be in [0, 1), got {value}"),
        ))
    }
}

/// `Err(InvalidArgument)` unless `value` is in `[0, 1]`.
pub(crate) fn check_unit(name: &'static str, value: f64) -> Result<()> {
    if (0.0..=1.0).contains(&value) {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!("must be in [0, 1], got {value}"),
        ))
    }
}

/// `Err(InvalidArgument)` unless `value > 0` (and finite).
pub(crate) fn check_positive(name: &'static str, value: f64) -> Result<()> {
    if value > 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!("must be a finite number > 0, got {value}"),
        ))
    }
}

/// `Err(InvalidArgument)` unless `value >= 0` (and finite).
pub(crate) fn check_non_negative(name: &'static str, value: f64) -> Result<()> {
    if value >= 0.0 && value.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            name,
            format!("must be a finite number >= 0, got {value}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn betas_must_lie_in_the_half_open_unit_interval() {
        assert!(check_beta("beta_1", 0.0).is_ok());
        assert!(check_beta("beta_1", 0.999).is_ok());
        assert!(check_beta("beta_1", 1.0).is_err());
        assert!(check_beta("beta_1", -0.1).is_err());
        assert!(check_beta("beta_1", f64::NAN).is_err());
    }

    #[test]
    fn positive_checks_reject_zero_nan_and_infinity() {
        assert!(check_positive("epsilon", 1e-7).is_ok());
        assert!(check_positive("epsilon", 0.0).is_err());
        assert!(check_positive("epsilon", f64::NAN).is_err());
        assert!(check_positive("epsilon", f64::INFINITY).is_err());
        assert!(check_non_negative("l1", 0.0).is_ok());
        assert!(check_non_negative("l1", -1.0).is_err());
        assert!(check_unit("momentum", 1.0).is_ok());
        assert!(check_unit("momentum", 1.5).is_err());
    }
}
