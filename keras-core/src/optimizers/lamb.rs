//! `keras.optimizers.Lamb`.

use super::moments::{moment_setters, Moments};
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::update::sum_squares;
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::Result;

/// LAMB (You et al.): Adam's bias-corrected direction `r = m_hat / (sqrt(v_hat) + eps)`,
/// scaled per variable by the trust ratio `||w|| / ||r||` (1 when either norm is 0).
///
/// # Examples
/// ```
/// use keras_core::optimizers::{FlatParams, Lamb, Optimizer};
/// let mut opt = Lamb::new().with_learning_rate(0.01).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[2][..])]);
/// params.values.copy_from_slice(&[3.0, 4.0]);
/// params.grads.copy_from_slice(&[1.0, 1.0]);
/// opt.apply(&mut params).unwrap();
/// // r = [1, 1], ||w|| = 5, ratio 5 / sqrt(2)
/// let step = 0.01 * 5.0 / 2f32.sqrt();
/// assert!((params.values[0] - (3.0 - step)).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Lamb {
    moments: Moments,
}

impl Lamb {
    /// A builder with Keras's defaults: learning rate `0.001`, betas `0.9`/`0.999`,
    /// epsilon `1e-7`.
    pub fn new() -> OptimizerBuilder<Lamb> {
        OptimizerBuilder::new(Lamb::default(), Lamb::DEFAULT_LEARNING_RATE)
    }
}

moment_setters!(
    Lamb,
    moments,
    beta_2: "Decay rate of the second moment",
    epsilon: "Added to `sqrt(v_hat)`"
);

/// Per-step values of [`Lamb`].
#[derive(Debug, Clone, Copy)]
pub struct LambStep {
    lr: f32,
    one_minus_beta_1: f32,
    one_minus_beta_2: f32,
    one_minus_beta_1_power: f32,
    one_minus_beta_2_power: f32,
    epsilon: f32,
}

impl LambStep {
    fn direction(&self, m: f32, v: f32) -> f32 {
        let m_hat = m / self.one_minus_beta_1_power;
        let v_sqrt = (v / self.one_minus_beta_2_power).sqrt() + self.epsilon;
        m_hat / v_sqrt
    }
}

impl UpdateRule for Lamb {
    const NAME: &'static str = "lamb";
    const DEVICE_KERNEL: bool = true;
    type Step = LambStep;

    fn validate(&self) -> Result<()> {
        self.moments.validate()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["momentum", "velocity"]
    }

    fn begin_step(&mut self, ctx: &StepContext) -> LambStep {
        let t = (ctx.iterations + 1) as f32;
        LambStep {
            lr: ctx.learning_rate,
            one_minus_beta_1: (1.0 - self.moments.beta_1) as f32,
            one_minus_beta_2: (1.0 - self.moments.beta_2) as f32,
            one_minus_beta_1_power: 1.0 - (self.moments.beta_1 as f32).powf(t),
            one_minus_beta_2_power: 1.0 - (self.moments.beta_2 as f32).powf(t),
            epsilon: self.moments.epsilon as f32,
        }
    }

    /// `lr`, `1 - beta_1`, `1 - beta_2`, `1 - beta_1^t`, `1 - beta_2^t`, `epsilon` for
    /// [`UpdateKernel::Lamb`]'s passes.
    fn device_update(&self, s: &LambStep) -> Option<DeviceUpdate> {
        let scalars = [
            s.lr,
            s.one_minus_beta_1,
            s.one_minus_beta_2,
            s.one_minus_beta_1_power,
            s.one_minus_beta_2_power,
            s.epsilon,
        ];
        Some(DeviceUpdate::new(UpdateKernel::Lamb, &scalars, 0))
    }

    fn update(&self, s: &LambStep, _: &VarInfo, value: &mut [f32], grad: &[f32], slots: Slots<'_>) {
        let [m, v, ..] = slots;
        let mut update_sq = 0.0f64;
        for ((&g, m), v) in grad.iter().zip(m.iter_mut()).zip(v.iter_mut()) {
            *m += (g - *m) * s.one_minus_beta_1;
            *v += (g * g - *v) * s.one_minus_beta_2;
            let r = f64::from(s.direction(*m, *v));
            update_sq += r * r;
        }
        let w_norm = (sum_squares(value) as f32).sqrt();
        let g_norm = (update_sq as f32).sqrt();
        let ratio = if w_norm > 0.0 && g_norm > 0.0 {
            w_norm / g_norm
        } else {
            1.0
        };
        let scale = ratio * s.lr;
        for ((w, &m), &v) in value.iter_mut().zip(m.iter()).zip(v.iter()) {
            *w -= scale * s.direction(m, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::{FlatParams, Optimizer};

    #[test]
    fn a_zero_weight_uses_a_trust_ratio_of_one() {
        let mut opt = Lamb::new().with_learning_rate(0.1).build().unwrap();
        let mut p = FlatParams::from_layout([("w", &[1][..])]);
        p.grads[0] = 2.0;
        opt.apply(&mut p).unwrap();
        assert!((p.values[0] + 0.1).abs() < 1e-6);
    }
}
