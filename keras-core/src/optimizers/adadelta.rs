//! `keras.optimizers.Adadelta`.

use super::update_rule::{check_positive, check_unit};
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// Adadelta: `E[g²] = rho E[g²] + (1 - rho) g²`,
/// `d = -sqrt(E[d²] + eps) g / sqrt(E[g²] + eps)`, `E[d²] = rho E[d²] + (1 - rho) d²`,
/// `w += lr d`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{Adadelta, FlatParams, Optimizer};
/// let mut opt = Adadelta::new().with_learning_rate(1.0).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 1.0;
/// opt.apply(&mut params).unwrap();
/// assert!(params.values[0] < 0.0 && params.values[0] > -0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adadelta {
    rho: f64,
    epsilon: f64,
}

impl Default for Adadelta {
    fn default() -> Self {
        Self {
            rho: 0.95,
            epsilon: 1e-7,
        }
    }
}

impl Adadelta {
    /// A builder with Keras's defaults: learning rate `0.001`, rho `0.95`, epsilon `1e-7`.
    pub fn new() -> OptimizerBuilder<Adadelta> {
        OptimizerBuilder::new(Adadelta::default(), Adadelta::DEFAULT_LEARNING_RATE)
    }
}

impl<S> OptimizerBuilder<Adadelta, S> {
    /// The decay rate, in `[0, 1]`. Defaults to `0.95`.
    pub fn with_rho(mut self, rho: f64) -> Self {
        self.rule.rho = rho;
        self
    }

    /// Added inside both square roots; must be > 0. Defaults to `1e-7`.
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.rule.epsilon = epsilon;
        self
    }
}

/// Per-step values of [`Adadelta`].
#[derive(Debug, Clone, Copy)]
pub struct AdadeltaStep {
    lr: f32,
    rho: f32,
    one_minus_rho: f32,
    epsilon: f32,
}

impl UpdateRule for Adadelta {
    const NAME: &'static str = "adadelta";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = AdadeltaStep;

    fn validate(&self) -> Result<()> {
        check_unit("rho", self.rho)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulated_grad", "accumulated_delta_var"]
    }

    fn begin_step(&mut self, ctx: &StepContext) -> AdadeltaStep {
        AdadeltaStep {
            lr: ctx.learning_rate,
            rho: self.rho as f32,
            one_minus_rho: (1.0 - self.rho) as f32,
            epsilon: self.epsilon as f32,
        }
    }

    fn device_update(&self, s: &AdadeltaStep) -> Option<DeviceUpdate> {
        Some(DeviceUpdate::new(
            UpdateKernel::Adadelta,
            &[s.lr, s.rho, s.one_minus_rho, s.epsilon],
            0,
        ))
    }

    fn update(
        &self,
        s: &AdadeltaStep,
        _: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    ) {
        let [acc_grad, acc_delta, ..] = slots;
        let accs = acc_grad.iter_mut().zip(acc_delta.iter_mut());
        for ((w, &g), (ag, ad)) in value.iter_mut().zip(grad).zip(accs) {
            *ag = s.rho * *ag + s.one_minus_rho * (g * g);
            let delta = -((*ad + s.epsilon).sqrt() * g / (*ag + s.epsilon).sqrt());
            *ad = s.rho * *ad + s.one_minus_rho * (delta * delta);
            *w += s.lr * delta;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rho_above_one_is_rejected() {
        assert!(Adadelta::new().with_rho(1.01).build().is_err());
        assert!(Adadelta::new().with_epsilon(-1.0).build().is_err());
    }
}
