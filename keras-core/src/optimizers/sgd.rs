//! `keras.optimizers.SGD`.

use super::update_rule::check_unit;
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// Gradient descent with optional (Nesterov) momentum, in Keras's form: the learning rate sits
/// inside the velocity, `m = momentum * m - lr * g; w += m` (Nesterov:
/// `w += momentum * m - lr * g`); without momentum `w -= lr * g`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{FlatParams, Optimizer, Sgd};
/// let mut opt = Sgd::new().with_learning_rate(0.1).with_momentum(0.9).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 1.0;
/// opt.apply(&mut params).unwrap(); // m = -0.1
/// opt.apply(&mut params).unwrap(); // m = -0.19
/// assert!((params.values[0] + 0.29).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Sgd {
    momentum: f64,
    nesterov: bool,
}

impl Sgd {
    /// A builder with Keras's defaults: learning rate `0.01`, no momentum.
    pub fn new() -> OptimizerBuilder<Sgd> {
        OptimizerBuilder::new(Sgd::default(), Sgd::DEFAULT_LEARNING_RATE)
    }

    /// The momentum.
    pub fn momentum(&self) -> f64 {
        self.momentum
    }

    /// Whether Nesterov momentum is used.
    pub fn nesterov(&self) -> bool {
        self.nesterov
    }
}

impl<S> OptimizerBuilder<Sgd, S> {
    /// Momentum in `[0, 1]`; 0 is plain gradient descent. Defaults to `0.0`.
    pub fn with_momentum(mut self, momentum: f64) -> Self {
        self.rule.momentum = momentum;
        self
    }

    /// Use Nesterov momentum. Defaults to `false`.
    pub fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.rule.nesterov = nesterov;
        self
    }
}

/// Per-step values of [`Sgd`].
#[derive(Debug, Clone, Copy)]
pub struct SgdStep {
    lr: f32,
    momentum: f32,
}

impl UpdateRule for Sgd {
    const NAME: &'static str = "SGD";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    const DEFAULT_LEARNING_RATE: f32 = 0.01;
    type Step = SgdStep;

    fn validate(&self) -> Result<()> {
        check_unit("momentum", self.momentum)
    }

    fn keras_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        let mut m = serde_json::Map::new();
        m.insert("momentum".into(), self.momentum.into());
        m.insert("nesterov".into(), self.nesterov.into());
        Some(("SGD", m))
    }

    fn slot_names(&self) -> &'static [&'static str] {
        if self.momentum != 0.0 {
            &["momentum"]
        } else {
            &[]
        }
    }

    fn begin_step(&mut self, ctx: &StepContext) -> SgdStep {
        SgdStep {
            lr: ctx.learning_rate,
            momentum: self.momentum as f32,
        }
    }

    fn device_update(&self, s: &SgdStep) -> Option<DeviceUpdate> {
        let mut flags = 0;
        if self.momentum != 0.0 {
            flags |= DeviceUpdate::MOMENTUM;
        }
        if self.nesterov {
            flags |= DeviceUpdate::NESTEROV;
        }
        Some(DeviceUpdate::new(
            UpdateKernel::Sgd,
            &[s.lr, s.momentum],
            flags,
        ))
    }

    fn update(&self, s: &SgdStep, _: &VarInfo, value: &mut [f32], grad: &[f32], slots: Slots<'_>) {
        let (lr, mu) = (s.lr, s.momentum);
        if self.momentum == 0.0 {
            for (w, &g) in value.iter_mut().zip(grad) {
                *w -= g * lr;
            }
            return;
        }
        let [m, ..] = slots;
        for ((w, &g), m) in value.iter_mut().zip(grad).zip(m.iter_mut()) {
            *m = *m * mu - g * lr;
            if self.nesterov {
                *w += *m * mu - g * lr;
            } else {
                *w += *m;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{FlatParams, Optimizer};

    #[test]
    fn nesterov_looks_ahead_along_the_velocity() {
        let mut opt = Sgd::new()
            .with_learning_rate(0.1)
            .with_momentum(0.5)
            .with_nesterov(true)
            .build()
            .unwrap();
        let mut p = FlatParams::from_layout([("w", &[1][..])]);
        p.grads[0] = 1.0;
        opt.apply(&mut p).unwrap();
        // m = -0.1; w += 0.5 * -0.1 - 0.1
        assert!((p.values[0] + 0.15).abs() < 1e-7);
        assert_eq!(opt.slot("momentum").unwrap(), &[-0.1]);
    }

    #[test]
    fn momentum_outside_the_unit_interval_is_rejected() {
        assert!(Sgd::new().with_momentum(1.5).build().is_err());
        assert!(Sgd::new().with_momentum(-0.1).build().is_err());
    }

    #[test]
    fn plain_sgd_has_no_slot() {
        let mut opt = Sgd::new().build().unwrap();
        let mut p = FlatParams::from_layout([("w", &[1][..])]);
        opt.apply(&mut p).unwrap();
        assert_eq!(opt.state().len(), 2, "iterations and learning_rate only");
    }
}
