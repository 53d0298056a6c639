//! `keras.optimizers.Lion`.

use super::update_rule::check_unit;
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::losses::sign;
use crate::{Error, Result};

/// Lion (Chen et al., 2023): `w -= lr * sign(beta_1 m + (1 - beta_1) g)`, then
/// `m = beta_2 m + (1 - beta_2) g`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{FlatParams, Lion, Optimizer};
/// let mut opt = Lion::new().with_learning_rate(0.01).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[2][..])]);
/// params.grads.copy_from_slice(&[0.3, -5.0]);
/// opt.apply(&mut params).unwrap();
/// assert_eq!(params.values, [-0.01, 0.01]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lion {
    beta_1: f64,
    beta_2: f64,
}

impl Default for Lion {
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.99,
        }
    }
}

impl Lion {
    /// A builder with Keras's defaults: learning rate `0.001`, betas `0.9`/`0.99`.
    pub fn new() -> OptimizerBuilder<Lion> {
        OptimizerBuilder::new(Lion::default(), Lion::DEFAULT_LEARNING_RATE)
    }
}

impl<S> OptimizerBuilder<Lion, S> {
    /// Weight of the momentum in the update direction, in `(0, 1]`. Defaults to `0.9`.
    pub fn with_beta_1(mut self, beta_1: f64) -> Self {
        self.rule.beta_1 = beta_1;
        self
    }

    /// Decay rate of the momentum, in `[0, 1]`. Defaults to `0.99`.
    pub fn with_beta_2(mut self, beta_2: f64) -> Self {
        self.rule.beta_2 = beta_2;
        self
    }
}

/// Per-step values of [`Lion`].
#[derive(Debug, Clone, Copy)]
pub struct LionStep {
    lr: f32,
    beta_1: f32,
    beta_2: f32,
}

impl UpdateRule for Lion {
    const NAME: &'static str = "lion";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = LionStep;

    fn validate(&self) -> Result<()> {
        if !(self.beta_1 > 0.0 && self.beta_1 <= 1.0) {
            return Err(Error::invalid(
                "beta_1",
                format!(
                    "must be in (0, 1] (0 degenerates to SignSGD), got {}",
                    self.beta_1
                ),
            ));
        }
        check_unit("beta_2", self.beta_2)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum"]
    }

    fn begin_step(&mut self, ctx: &StepContext) -> LionStep {
        LionStep {
            lr: ctx.learning_rate,
            beta_1: self.beta_1 as f32,
            beta_2: self.beta_2 as f32,
        }
    }

    fn device_update(&self, s: &LionStep) -> Option<DeviceUpdate> {
        Some(DeviceUpdate::new(
            UpdateKernel::Lion,
            &[s.lr, s.beta_1, s.beta_2],
            0,
        ))
    }

    fn update(&self, s: &LionStep, _: &VarInfo, value: &mut [f32], grad: &[f32], slots: Slots<'_>) {
        let [m, ..] = slots;
        for ((w, &g), m) in value.iter_mut().zip(grad).zip(m.iter_mut()) {
            let direction = *m * s.beta_1 + g * (1.0 - s.beta_1);
            *w -= s.lr * sign(direction);
            *m = *m * s.beta_2 + g * (1.0 - s.beta_2);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_direction_leaves_the_weight_alone() {
        assert_eq!(sign(0.0), 0.0);
        assert_eq!(sign(-3.0), -1.0);
        assert!(sign(f32::NAN).is_nan());
    }

    #[test]
    fn beta_1_of_zero_is_rejected() {
        assert!(Lion::new().with_beta_1(0.0).build().is_err());
        assert!(Lion::new().with_beta_2(1.5).build().is_err());
    }
}
