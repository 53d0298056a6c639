//! `keras.optimizers.Nadam`.

use super::moments::{moment_setters, Moments};
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// Nadam, Adam with Nesterov momentum (Dozat), with Keras's momentum schedule
/// `u_t = beta_1 (1 - 0.5 * 0.96^t)` and its running product `u_product`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{FlatParams, Nadam, Optimizer};
/// let mut opt = Nadam::new().with_learning_rate(0.01).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.grads[0] = 1.0;
/// opt.apply(&mut params).unwrap();
/// assert!(params.values[0] < -0.01);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Nadam {
    moments: Moments,
    /// Product of the momentum schedule so far (a Keras optimizer variable).
    u_product: f32,
}

impl Default for Nadam {
    fn default() -> Self {
        Self {
            moments: Moments::default(),
            u_product: 1.0,
        }
    }
}

impl Nadam {
    /// A builder with Keras's defaults: learning rate `0.001`, betas `0.9`/`0.999`,
    /// epsilon `1e-7`.
    pub fn new() -> OptimizerBuilder<Nadam> {
        OptimizerBuilder::new(Nadam::default(), Nadam::DEFAULT_LEARNING_RATE)
    }
}

moment_setters!(
    Nadam,
    moments,
    beta_2: "Decay rate of the second moment",
    epsilon: "Added to `sqrt(v_hat)`"
);

/// Per-step values of [`Nadam`].
#[derive(Debug, Clone, Copy)]
pub struct NadamStep {
    lr: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    u_t: f32,
    u_t_1: f32,
    u_product_t: f32,
    u_product_t_1: f32,
    one_minus_beta_2_power: f32,
    epsilon: f32,
}

impl UpdateRule for Nadam {
    const NAME: &'static str = "nadam";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    type Step = NadamStep;

    fn validate(&self) -> Result<()> {
        self.moments.validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum", "velocity"]
    }

    fn begin_step(&mut self, ctx: &StepContext) -> NadamStep {
        let t = (ctx.iterations + 1) as f32;
        let beta_1 = self.moments.beta_1 as f32;
        let beta_2 = self.moments.beta_2 as f32;
        let decay = 0.96f32;
        // Keras's `_backend_update_step`: advance the product once per step.
        self.u_product = self.u_product * beta_1 * (1.0 - 0.5 * decay.powf(t));
        let u_t = beta_1 * (1.0 - 0.5 * decay.powf(t));
        let u_t_1 = beta_1 * (1.0 - 0.5 * decay.powf(t + 1.0));
        NadamStep {
            lr: ctx.learning_rate,
            one_minus_beta_1: 1.0 - beta_1,
            one_minus_beta_2: 1.0 - beta_2,
            u_t,
            u_t_1,
            u_product_t: self.u_product,
            u_product_t_1: self.u_product * u_t_1,
            one_minus_beta_2_power: 1.0 - beta_2.powf(t),
            epsilon: self.moments.epsilon as f32,
        }
    }

    fn device_update(&self, s: &NadamStep) -> Option<DeviceUpdate> {
        Some(DeviceUpdate::new(
            UpdateKernel::Nadam,
            &[
                s.lr,
                s.one_minus_beta_1,
                s.one_minus_beta_2,
                s.u_t,
                s.u_t_1,
                s.u_product_t,
                s.u_product_t_1,
                s.one_minus_beta_2_power,
                s.epsilon,
            ],
            0,
        ))
    }

    fn update(
        &self,
        s: &NadamStep,
        _: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    ) {
        let [m, v, ..] = slots;
        for ((w, &g), (m, v)) in value
            .iter_mut()
            .zip(grad)
            .zip(m.iter_mut().zip(v.iter_mut()))
        {
            *m += (g - *m) * s.one_minus_beta_1;
            *v += (g * g - *v) * s.one_minus_beta_2;
            let m_hat =
                s.u_t_1 * *m / (1.0 - s.u_product_t_1) + (1.0 - s.u_t) * g / (1.0 - s.u_product_t);
            let v_hat = *v / s.one_minus_beta_2_power;
            *w -= m_hat * s.lr / (v_hat.sqrt() + s.epsilon);
        }
    }

    fn scalars(&self) -> Vec<(&'static str, f32)> {
        vec![("u_product", self.u_product)]
    }

    fn set_scalar(&mut self, name: &str, value: f32) -> bool {
        if name == "u_product" {
            self.u_product = value;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{FlatParams, Optimizer};

    #[test]
    fn u_product_advances_once_per_step_and_is_saved() {
        let mut opt = Nadam::new().build().unwrap();
        let mut p = FlatParams::from_layout([("a", &[1][..]), ("b", &[1][..])]);
        opt.apply(&mut p).unwrap();
        let expected = 0.9f32 * (1.0 - 0.5 * 0.96);
        assert_eq!(opt.rule().u_product, expected);
        let state = opt.state();
        let saved = state.iter().find(|(n, _)| n == "u_product").unwrap();
        assert_eq!(saved.1, [expected]);
    }
}
