//! `keras.optimizers.Adamax`.

use super::moments::{moment_setters, Moments};
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// Adamax, Adam's infinity-norm variant: `m += (g - m)(1 - beta_1)`,
/// `u = max(beta_2 u, |g|)`, `w -= lr m / ((1 - beta_1^t)(u + eps))`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{Adamax, FlatParams, Optimizer};
/// let mut opt = Adamax::new().with_learning_rate(0.01).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 2.0;
/// opt.apply(&mut params).unwrap();
/// assert!((params.values[0] + 0.01).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Adamax {
    moments: Moments,
}

impl Adamax {
    /// A builder with Keras's defaults: learning rate `0.001`, betas `0.9`/`0.999`,
    /// epsilon `1e-7`.
    pub fn new() -> OptimizerBuilder<Adamax> {
        OptimizerBuilder::new(Adamax::default(), Adamax::DEFAULT_LEARNING_RATE)
    }
}

moment_setters!(
    Adamax,
    moments,
    beta_2: "Decay rate of the infinity norm",
    epsilon: "Added to the norm"
);

/// Per-step values of [`Adamax`].
#[derive(Debug, Clone, Copy)]
pub struct AdamaxStep {
    lr: f32,
    one_minus_beta_1: f32,
    beta_2: f32,
    one_minus_beta_1_power: f32,
    epsilon: f32,
}

impl UpdateRule for Adamax {
    const NAME: &'static str = "adamax";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = AdamaxStep;

    fn validate(&self) -> Result<()> {
        self.moments.validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum", "norm"]
    }

    fn begin_step(&mut self, ctx: &StepContext) -> AdamaxStep {
        let t = (ctx.iterations + 1) as f32;
        AdamaxStep {
            lr: ctx.learning_rate,
            one_minus_beta_1: (1.0 - self.moments.beta_1) as f32,
            beta_2: self.moments.beta_2 as f32,
            one_minus_beta_1_power: 1.0 - (self.moments.beta_1 as f32).powf(t),
            epsilon: self.moments.epsilon as f32,
        }
    }

    fn device_update(&self, s: &AdamaxStep) -> Option<DeviceUpdate> {
        Some(DeviceUpdate::new(
            UpdateKernel::Adamax,
            &[
                s.lr,
                s.one_minus_beta_1,
                s.beta_2,
                s.one_minus_beta_1_power,
                s.epsilon,
            ],
            0,
        ))
    }

    fn update(
        &self,
        s: &AdamaxStep,
        _: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    ) {
        let [m, u, ..] = slots;
        for ((w, &g), (m, u)) in value
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut().zip(u.iter_mut()))
        {
            *m += (g - *m) * s.one_minus_beta_1;
            *u = (s.beta_2 * *u).max(g.abs());
            *w -= s.lr * *m / (s.one_minus_beta_1_power * (*u + s.epsilon));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn betas_must_be_below_one() {
        assert!(Adamax::new().with_beta_1(1.0).build().is_err());
        assert!(Adamax::new().with_beta_2(1.2).build().is_err());
    }
}
