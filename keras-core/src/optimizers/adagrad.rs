//! `keras.optimizers.Adagrad`.

use super::update_rule::{check_non_negative, check_positive};
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// Adagrad: `acc += g²; w -= lr g / sqrt(acc + eps)`, the accumulator starting at
/// `initial_accumulator_value`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{Adagrad, FlatParams, Optimizer};
/// let mut opt = Adagrad::new().with_learning_rate(0.1).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 0.3;
/// opt.apply(&mut params).unwrap(); // acc = 0.1 + 0.09
/// assert!((params.values[0] + 0.1 * 0.3 / 0.19f32.sqrt()).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adagrad {
    initial_accumulator_value: f64,
    epsilon: f64,
}

impl Default for Adagrad {
    fn default() -> Self {
        Self {
            initial_accumulator_value: 0.1,
            epsilon: 1e-7,
        }
    }
}

impl Adagrad {
    /// A builder with Keras's defaults: learning rate `0.001`, initial accumulator `0.1`,
    /// epsilon `1e-7`.
    pub fn new() -> OptimizerBuilder<Adagrad> {
        OptimizerBuilder::new(Adagrad::default(), Adagrad::DEFAULT_LEARNING_RATE)
    }
}

impl<S> OptimizerBuilder<Adagrad, S> {
    /// Starting value of the accumulators, >= 0. Defaults to `0.1`.
    pub fn with_initial_accumulator_value(mut self, value: f64) -> Self {
        self.rule.initial_accumulator_value = value;
        self
    }

    /// Added to the accumulator inside the square root; must be > 0. Defaults to `1e-7`.
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.rule.epsilon = epsilon;
        self
    }
}

impl UpdateRule for Adagrad {
    const NAME: &'static str = "adagrad";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = (f32, f32);

    fn validate(&self) -> Result<()> {
        check_non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulator"]
    }

    fn slot_init(&self, _slot: usize) -> f32 {
        self.initial_accumulator_value as f32
    }

    fn begin_step(&mut self, ctx: &StepContext) -> (f32, f32) {
        (ctx.learning_rate, self.epsilon as f32)
    }

    fn device_update(&self, &(lr, eps): &(f32, f32)) -> Option<DeviceUpdate> {
        Some(DeviceUpdate::new(UpdateKernel::Adagrad, &[lr, eps], 0))
    }

    fn update(
        &self,
        &(lr, eps): &(f32, f32),
        _: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    ) {
        let [acc, ..] = slots;
        for ((w, &g), a) in value.iter_mut().zip(grad).zip(acc.iter_mut()) {
            *a += g * g;
            *w -= lr * g / (*a + eps).sqrt();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_initial_accumulator_is_rejected() {
        assert!(Adagrad::new()
            .with_initial_accumulator_value(-0.1)
            .build()
            .is_err());
        assert!(Adagrad::new().with_epsilon(0.0).build().is_err());
    }
}
