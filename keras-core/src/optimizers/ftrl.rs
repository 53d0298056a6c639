//! `keras.optimizers.Ftrl`.

use super::update_rule::check_non_negative;
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::{Error, Result};

/// Follow The Regularized Leader (McMahan et al., 2013) with online L1/L2 and shrinkage-type
/// L2 regularization, as Keras implements it (accumulator `n`, linear term `z`).
///
/// # Examples
/// ```
/// use keras_core::optimizers::{FlatParams, Ftrl, Optimizer};
/// let mut opt = Ftrl::new().with_learning_rate(0.1).with_l1_regularization_strength(1.0).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 0.5;
/// opt.apply(&mut params).unwrap();
/// assert_eq!(params.values[0], 0.0); // |z| below the L1 strength: the weight stays 0
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ftrl {
    learning_rate_power: f64,
    initial_accumulator_value: f64,
    l1: f64,
    l2: f64,
    l2_shrinkage: f64,
    beta: f64,
}

impl Default for Ftrl {
    fn default() -> Self {
        Self {
            learning_rate_power: -0.5,
            initial_accumulator_value: 0.1,
            l1: 0.0,
            l2: 0.0,
            l2_shrinkage: 0.0,
            beta: 0.0,
        }
    }
}

impl Ftrl {
    /// A builder with Keras's defaults: learning rate `0.001`, learning-rate power `-0.5`,
    /// initial accumulator `0.1`, no regularization, beta `0`.
    pub fn new() -> OptimizerBuilder<Ftrl> {
        OptimizerBuilder::new(Ftrl::default(), Ftrl::DEFAULT_LEARNING_RATE)
    }
}

impl<S> OptimizerBuilder<Ftrl, S> {
    /// How the learning rate decreases with the accumulator, <= 0. Defaults to `-0.5`.
    pub fn with_learning_rate_power(mut self, power: f64) -> Self {
        self.rule.learning_rate_power = power;
        self
    }

    /// Starting value of the accumulators, >= 0. Defaults to `0.1`.
    pub fn with_initial_accumulator_value(mut self, value: f64) -> Self {
        self.rule.initial_accumulator_value = value;
        self
    }

    /// L1 regularization strength, >= 0. Defaults to `0.0`.
    pub fn with_l1_regularization_strength(mut self, l1: f64) -> Self {
        self.rule.l1 = l1;
        self
    }

    /// L2 (stabilization) regularization strength, >= 0. Defaults to `0.0`.
    pub fn with_l2_regularization_strength(mut self, l2: f64) -> Self {
        self.rule.l2 = l2;
        self
    }

    /// L2 shrinkage (magnitude penalty) strength, >= 0. Defaults to `0.0`.
    pub fn with_l2_shrinkage_regularization_strength(mut self, l2_shrinkage: f64) -> Self {
        self.rule.l2_shrinkage = l2_shrinkage;
        self
    }

    /// The paper's beta. Defaults to `0.0`.
    pub fn with_beta(mut self, beta: f64) -> Self {
        self.rule.beta = beta;
        self
    }
}

/// Per-step values of [`Ftrl`].
#[derive(Debug, Clone, Copy)]
pub struct FtrlStep {
    lr: f32,
    power: f32,
    twice_l2_reg: f32,
    twice_shrinkage: f32,
    l1: f32,
}

impl UpdateRule for Ftrl {
    const NAME: &'static str = "ftrl";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = FtrlStep;

    fn validate(&self) -> Result<()> {
        if self.learning_rate_power.is_nan() || self.learning_rate_power > 0.0 {
            return Err(Error::invalid(
                "learning_rate_power",
                format!("must be <= 0, got {}", self.learning_rate_power),
            ));
        }
        check_non_negative("initial_accumulator_value", self.initial_accumulator_value)?;
        check_non_negative("l1_regularization_strength", self.l1)?;
        check_non_negative("l2_regularization_strength", self.l2)?;
        check_non_negative("l2_shrinkage_regularization_strength", self.l2_shrinkage)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["accumulator", "linear"]
    }

    fn slot_init(&self, slot: usize) -> f32 {
        if slot == 0 {
            self.initial_accumulator_value as f32
        } else {
            0.0
        }
    }

    fn begin_step(&mut self, ctx: &StepContext) -> FtrlStep {
        let lr = ctx.learning_rate;
        let l2_reg = self.l2 as f32 + self.beta as f32 / (2.0 * lr);
        FtrlStep {
            lr,
            power: -self.learning_rate_power as f32,
            twice_l2_reg: 2.0 * l2_reg,
            twice_shrinkage: (2.0 * self.l2_shrinkage) as f32,
            l1: self.l1 as f32,
        }
    }

    fn device_update(&self, s: &FtrlStep) -> Option<DeviceUpdate> {
        Some(DeviceUpdate::new(
            UpdateKernel::Ftrl,
            &[s.lr, s.power, s.twice_l2_reg, s.twice_shrinkage, s.l1],
            0,
        ))
    }

    fn update(&self, s: &FtrlStep, _: &VarInfo, value: &mut [f32], grad: &[f32], slots: Slots<'_>) {
        let [accum, linear, ..] = slots;
        let state = accum.iter_mut().zip(linear.iter_mut());
        for ((w, &g), (n, z)) in value.iter_mut().zip(grad).zip(state) {
            let grad_to_use = g + s.twice_shrinkage * *w;
            let new_n = *n + g * g;
            let new_n_pow = new_n.powf(s.power);
            *z += grad_to_use - (new_n_pow - n.powf(s.power)) / s.lr * *w;
            let quadratic = new_n_pow / s.lr + s.twice_l2_reg;
            let clipped = if *z < -s.l1 {
                -s.l1
            } else if *z > s.l1 {
                s.l1
            } else {
                *z
            };
            *w = (clipped - *z) / quadratic;
            *n = new_n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_positive_learning_rate_power_is_rejected() {
        assert!(Ftrl::new().with_learning_rate_power(0.5).build().is_err());
        assert!(Ftrl::new()
            .with_l2_regularization_strength(-1.0)
            .build()
            .is_err());
        assert!(Ftrl::new().with_learning_rate_power(0.0).build().is_ok());
    }
}
