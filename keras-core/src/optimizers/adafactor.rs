//! `keras.optimizers.Adafactor`.

use super::update_rule::check_positive;
use super::{OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::update::sum_squares;
use crate::kernels::{DeviceUpdate, UpdateKernel};
use crate::{Error, Result};

/// Adafactor (Shazeer & Stern, 2018): for variables of rank >= 2 the second moment is
/// factored into row (`r`) and column (`c`) averages over the last two axes; the step size is
/// relative to the variable's RMS and the update is clipped by its own RMS.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{Adafactor, FlatParams, Optimizer};
/// let mut opt = Adafactor::new().with_learning_rate(0.01).build().unwrap();
/// let mut params = FlatParams::from_layout([("kernel", &[2, 3][..])]);
/// params.grads.copy_from_slice(&[1.0, -1.0, 1.0, -1.0, 1.0, -1.0]);
/// opt.apply(&mut params).unwrap();
/// // alpha = max(eps_2, rms(w)) * min(lr, 1) = 0.001 * 0.01 per unit of clipped update
/// assert!((params.values[0] + 1e-5).abs() < 1e-9);
/// assert_eq!(opt.slot("r").unwrap().len(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adafactor {
    beta_2_decay: f64,
    epsilon_1: f64,
    epsilon_2: f64,
    clip_threshold: f64,
    relative_step: bool,
}

impl Default for Adafactor {
    fn default() -> Self {
        Self {
            beta_2_decay: -0.8,
            epsilon_1: 1e-30,
            epsilon_2: 1e-3,
            clip_threshold: 1.0,
            relative_step: true,
        }
    }
}

impl Adafactor {
    /// A builder with Keras's defaults: learning rate `0.001`, `beta_2_decay` `-0.8`,
    /// epsilons `1e-30`/`1e-3`, clip threshold `1.0`, relative step on.
    pub fn new() -> OptimizerBuilder<Adafactor> {
        OptimizerBuilder::new(Adafactor::default(), Adafactor::DEFAULT_LEARNING_RATE)
    }
}

impl<S> OptimizerBuilder<Adafactor, S> {
    /// Decay exponent of `beta_2`: `beta_2_t = 1 - t^beta_2_decay`; must be < 0. Defaults to
    /// `-0.8`.
    pub fn with_beta_2_decay(mut self, beta_2_decay: f64) -> Self {
        self.rule.beta_2_decay = beta_2_decay;
        self
    }

    /// Added to the squared gradients; must be > 0. Defaults to `1e-30`.
    pub fn with_epsilon_1(mut self, epsilon_1: f64) -> Self {
        self.rule.epsilon_1 = epsilon_1;
        self
    }

    /// Lower bound of the variable RMS in the step size; must be > 0. Defaults to `1e-3`.
    pub fn with_epsilon_2(mut self, epsilon_2: f64) -> Self {
        self.rule.epsilon_2 = epsilon_2;
        self
    }

    /// RMS threshold of the update; must be > 0. Defaults to `1.0`.
    pub fn with_clip_threshold(mut self, clip_threshold: f64) -> Self {
        self.rule.clip_threshold = clip_threshold;
        self
    }

    /// With a constant learning rate, cap it at `1/sqrt(t)`. Defaults to `true`.
    pub fn with_relative_step(mut self, relative_step: bool) -> Self {
        self.rule.relative_step = relative_step;
        self
    }
}

/// Per-step values of [`Adafactor`].
#[derive(Debug, Clone, Copy)]
pub struct AdafactorStep {
    rho_t: f32,
    beta_2_t: f32,
    epsilon_1: f32,
    epsilon_2: f32,
    clip_threshold: f32,
}

/// `(batches, rows, cols)` of a variable of rank >= 2 (last two axes factored).
pub(crate) fn factored(var: &VarInfo) -> Option<(usize, usize, usize)> {
    let rank = var.shape.len();
    if rank < 2 || var.len == 0 {
        return None;
    }
    let (rows, cols) = (var.shape[rank - 2], var.shape[rank - 1]);
    Some((var.len / (rows * cols), rows, cols))
}

fn rms(x: &[f32]) -> f32 {
    ((sum_squares(x) / x.len().max(1) as f64) as f32).sqrt()
}

impl UpdateRule for Adafactor {
    const NAME: &'static str = "adafactor";
    const DEVICE_KERNEL: bool = true;
    type Step = AdafactorStep;

    fn validate(&self) -> Result<()> {
        if self.beta_2_decay.is_nan() || self.beta_2_decay >= 0.0 {
            return Err(Error::invalid(
                "beta_2_decay",
                format!("must be < 0, got {}", self.beta_2_decay),
            ));
        }
        check_positive("epsilon_1", self.epsilon_1)?;
        check_positive("epsilon_2", self.epsilon_2)?;
        check_positive("clip_threshold", self.clip_threshold)
    }

    fn slot_names(&self) -> &'static [&'static str] {
        &["r", "c", "velocity"]
    }

    fn slot_len(&self, slot: usize, var: &VarInfo) -> usize {
        match (slot, factored(var)) {
            (0, Some((b, rows, _))) => b * rows,
            (1, Some((b, _, cols))) => b * cols,
            (0 | 1, None) => 0,
            _ => var.len,
        }
    }

    fn begin_step(&mut self, ctx: &StepContext) -> AdafactorStep {
        let t = (ctx.iterations + 1) as f32;
        let inv_sqrt_t = 1.0 / t.sqrt();
        let mut lr = ctx.learning_rate;
        if !ctx.scheduled && self.relative_step {
            lr = lr.min(inv_sqrt_t);
        }
        AdafactorStep {
            rho_t: lr.min(inv_sqrt_t),
            beta_2_t: 1.0 - t.powf(self.beta_2_decay as f32),
            epsilon_1: self.epsilon_1 as f32,
            epsilon_2: self.epsilon_2 as f32,
            clip_threshold: self.clip_threshold as f32,
        }
    }

    /// `rho_t`, `beta_2_t`, `epsilon_1`, `epsilon_2`, `clip_threshold` for
    /// [`UpdateKernel::Adafactor`]'s passes.
    fn device_update(&self, s: &AdafactorStep) -> Option<DeviceUpdate> {
        let scalars = [
            s.rho_t,
            s.beta_2_t,
            s.epsilon_1,
            s.epsilon_2,
            s.clip_threshold,
        ];
        Some(DeviceUpdate::new(UpdateKernel::Adafactor, &scalars, 0))
    }

    fn update(
        &self,
        s: &AdafactorStep,
        var: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    ) {
        let [r, c, v, _] = slots;
        let alpha_t = s.epsilon_2.max(rms(value)) * s.rho_t;
        let (b2, rest) = (s.beta_2_t, 1.0 - s.beta_2_t);
        let reg = |g: f32| g * g + s.epsilon_1;
        if let Some((batches, rows, cols)) = factored(var) {
            for b in 0..batches {
                let g = &grad[b * rows * cols..(b + 1) * rows * cols];
                let (r, c) = (
                    &mut r[b * rows..(b + 1) * rows],
                    &mut c[b * cols..(b + 1) * cols],
                );
                for (i, ri) in r.iter_mut().enumerate() {
                    let sum: f64 = g[i * cols..(i + 1) * cols]
                        .iter()
                        .map(|&x| f64::from(reg(x)))
                        .sum();
                    *ri = b2 * *ri + rest * (sum / cols as f64) as f32;
                }
                for (j, cj) in c.iter_mut().enumerate() {
                    let sum: f64 = (0..rows).map(|i| f64::from(reg(g[i * cols + j]))).sum();
                    *cj = b2 * *cj + rest * (sum / rows as f64) as f32;
                }
                let r_mean = (r.iter().map(|&x| f64::from(x)).sum::<f64>() / rows as f64) as f32;
                let v = &mut v[b * rows * cols..(b + 1) * rows * cols];
                for (i, &ri) in r.iter().enumerate() {
                    for (j, &cj) in c.iter().enumerate() {
                        v[i * cols + j] = ri / r_mean * cj;
                    }
                }
            }
        } else {
            for (v, &g) in v.iter_mut().zip(grad) {
                *v = b2 * *v + rest * reg(g);
            }
        }
        let u_sq: f64 = grad
            .iter()
            .zip(v.iter())
            .map(|(&g, &v)| f64::from(g / v.sqrt()).powi(2))
            .sum();
        let rms_u = ((u_sq / grad.len().max(1) as f64) as f32).sqrt();
        let denom = 1.0f32.max(rms_u / s.clip_threshold);
        for ((w, &g), &v) in value.iter_mut().zip(grad).zip(v.iter()) {
            *w -= alpha_t * (g / v.sqrt() / denom);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_not_factored_and_matrices_are() {
        let rule = Adafactor::default();
        let vector = VarInfo {
            name: "b".into(),
            shape: vec![4],
            offset: 0,
            len: 4,
            has_grad: true,
        };
        let tensor = VarInfo {
            name: "k".into(),
            shape: vec![2, 3, 4],
            offset: 0,
            len: 24,
            has_grad: true,
        };
        assert_eq!([0, 1, 2].map(|k| rule.slot_len(k, &vector)), [0, 0, 4]);
        assert_eq!([0, 1, 2].map(|k| rule.slot_len(k, &tensor)), [6, 8, 24]);
    }

    #[test]
    fn a_non_negative_beta_2_decay_is_rejected() {
        assert!(Adafactor::new().with_beta_2_decay(0.5).build().is_err());
        assert!(Adafactor::new().with_clip_threshold(0.0).build().is_err());
    }
}
