//! `keras.optimizers.RMSprop`.

use super::update_rule::{check_positive, check_unit};
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// RMSprop as Keras computes it: `v = rho v + (1 - rho) g²` (starting at 0), then
/// `w -= lr g / sqrt(v + eps)` with epsilon *inside* the square root. `centered` subtracts the
/// squared mean gradient inside the root; `momentum` accumulates the increments.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{FlatParams, Optimizer, RMSprop};
/// let mut opt = RMSprop::new().with_learning_rate(0.1).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.values[0] = 10.0;
/// params.grads[0] = 10.0;
/// opt.apply(&mut params).unwrap();
/// assert!((params.values[0] - 9.683772).abs() < 1e-5); // Keras's docstring example
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RMSprop {
    rho: f64,
    momentum: f64,
    epsilon: f64,
    centered: bool,
}

impl Default for RMSprop {
    fn default() -> Self {
        Self {
            rho: 0.9,
            momentum: 0.0,
            epsilon: 1e-7,
            centered: false,
        }
    }
}

impl RMSprop {
    /// A builder with Keras's defaults: learning rate `0.001`, rho `0.9`, no momentum,
    /// epsilon `1e-7`, not centered.
    pub fn new() -> OptimizerBuilder<RMSprop> {
        OptimizerBuilder::new(RMSprop::default(), RMSprop::DEFAULT_LEARNING_RATE)
    }
}

impl<S> OptimizerBuilder<RMSprop, S> {
    /// Discounting factor of the squared-gradient average, in `[0, 1]`. Defaults to `0.9`.
    pub fn with_rho(mut self, rho: f64) -> Self {
        self.rule.rho = rho;
        self
    }

    /// Momentum in `[0, 1]` applied to the increments. Defaults to `0.0`.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.rule.momentum = momentum;
        self
    }

    /// Added to the average inside the square root; must be > 0. Defaults to `1e-7`.
    pub fn with_epsilon(mut self, epsilon: f64) -> Self {
        self.rule.epsilon = epsilon;
        self
    }

    /// Normalise by the estimated variance instead of the second moment. Defaults to `false`.
    pub fn with_centered(mut self, centered: bool) -> Self {
        self.rule.centered = centered;
        self
    }
}

/// Per-step values of [`RMSprop`].
#[derive(Debug, Clone, Copy)]
pub struct RMSpropStep {
    lr: f32,
    rho: f32,
    one_minus_rho: f32,
    momentum: f32,
    epsilon: f32,
}

impl UpdateRule for RMSprop {
    const NAME: &'static str = "rmsprop";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = RMSpropStep;

    fn validate(&self) -> Result<()> {
        check_unit("rho", self.rho)?;
        check_unit("momentum", self.momentum)?;
        check_positive("epsilon", self.epsilon)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        match (self.momentum > 0.0, self.centered) {
            (false, false) => &["velocity"],
            (true, false) => &["velocity", "momentum"],
            (false, true) => &["velocity", "average_gradient"],
            (true, true) => &["velocity", "momentum", "average_gradient"],
        }
    }

    fn begin_step(&mut self, ctx: &StepContext) -> RMSpropStep {
        RMSpropStep {
            lr: ctx.learning_rate,
            rho: self.rho as f32,
            one_minus_rho: (1.0 - self.rho) as f32,
            momentum: self.momentum as f32,
            epsilon: self.epsilon as f32,
        }
    }

    fn device_update(&self, s: &RMSpropStep) -> Option<DeviceUpdate> {
        let mut flags = 0;
        if self.momentum > 0.0 {
            flags |= DeviceUpdate::MOMENTUM;
        }
        if self.centered {
            flags |= DeviceUpdate::CENTERED;
        }
        Some(DeviceUpdate::new(
            UpdateKernel::RmsProp,
            &[s.lr, s.rho, s.one_minus_rho, s.momentum, s.epsilon],
            flags,
        ))
    }

    fn update(
        &self,
        s: &RMSpropStep,
        _: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    ) {
        let [velocity, second, third, _] = slots;
        let (momentum, average): (&mut [f32], &mut [f32]) =
            match (self.momentum > 0.0, self.centered) {
                (true, _) => (second, third),
                (false, _) => (third, second),
            };
        for (i, (w, &g)) in value.iter_mut().zip(grad).enumerate() {
            let v = s.rho * velocity[i] + s.one_minus_rho * (g * g);
            velocity[i] = v;
            let denominator = if self.centered {
                let a = s.rho * average[i] + s.one_minus_rho * g;
                average[i] = a;
                v - a * a + s.epsilon
            } else {
                v + s.epsilon
            };
            let increment = s.lr * g / denominator.sqrt();
            if self.momentum > 0.0 {
                momentum[i] = s.momentum * momentum[i] + increment;
                *w -= momentum[i];
            } else {
                *w -= increment;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{FlatParams, Optimizer};

    #[test]
    fn centered_momentum_rmsprop_keeps_three_slots() {
        let mut opt = RMSprop::new()
            .with_momentum(0.5)
            .with_centered(true)
            .build()
            .unwrap();
        let mut p = FlatParams::from_layout([("w", &[2][..])]);
        p.grads.copy_from_slice(&[1.0, -1.0]);
        opt.apply(&mut p).unwrap();
        let avg = opt.slot("average_gradient").unwrap();
        assert!((avg[0] - 0.1).abs() < 1e-7 && (avg[1] + 0.1).abs() < 1e-7);
        // sqrt(0.1 - 0.01 + 1e-7) ≈ 0.3; increment = 0.001 / 0.3
        let m = opt.slot("momentum").unwrap();
        assert!((m[0] - 0.001 / 0.09f32.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn invalid_rho_and_epsilon_are_rejected() {
        assert!(RMSprop::new().with_rho(1.5).build().is_err());
        assert!(RMSprop::new().with_epsilon(0.0).build().is_err());
    }
}
