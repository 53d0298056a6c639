//! `keras.optimizers.schedules.CosineDecayRestarts`.

use super::{check_steps, LearningRateSchedule};
use crate::{Error, Result};

/// Cosine decay with warm restarts (SGDR): the first period lasts `first_decay_steps`, each
/// next one `t_mul` times longer and starting `m_mul` times lower; within a period the rate
/// decays from its start to `alpha` times the initial rate.
///
/// # Examples
/// ```
/// use keras_core::optimizers::schedules::{CosineDecayRestarts, LearningRateSchedule};
/// let s = CosineDecayRestarts::new(0.1, 20).unwrap().with_t_mul(1.0).unwrap();
/// assert_eq!(s.learning_rate(20), s.learning_rate(0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineDecayRestarts {
    initial_learning_rate: f64,
    first_decay_steps: u64,
    t_mul: f64,
    m_mul: f64,
    alpha: f64,
}

impl CosineDecayRestarts {
    /// A schedule whose first period lasts `first_decay_steps` steps. Fails when it is 0.
    pub fn new(initial_learning_rate: f64, first_decay_steps: u64) -> Result<Self> {
        check_steps("first_decay_steps", first_decay_steps)?;
        Ok(Self {
            initial_learning_rate,
            first_decay_steps,
            t_mul: 2.0,
            m_mul: 1.0,
            alpha: 0.0,
        })
    }

    /// How much longer each period is than the previous one; must be > 0. Defaults to `2.0`.
    pub fn with_t_mul(mut self, t_mul: f64) -> Result<Self> {
        if !(t_mul > 0.0 && t_mul.is_finite()) {
            return Err(Error::invalid("t_mul", format!("must be > 0, got {t_mul}")));
        }
        self.t_mul = t_mul;
        Ok(self)
    }

    /// The factor each restart's starting rate is multiplied by. Defaults to `1.0`.
    pub fn with_m_mul(mut self, m_mul: f64) -> Self {
        self.m_mul = m_mul;
        self
    }

    /// The minimum rate as a fraction of the initial rate. Defaults to `0.0`.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }
}

impl LearningRateSchedule for CosineDecayRestarts {
    fn learning_rate(&self, step: u64) -> f32 {
        let initial = self.initial_learning_rate as f32;
        let first = self.first_decay_steps as f32;
        let alpha = self.alpha as f32;
        let t_mul = self.t_mul as f32;
        let m_mul = self.m_mul as f32;
        let mut completed = step as f32 / first;
        let i_restart;
        if t_mul == 1.0 {
            i_restart = completed.floor();
            completed -= i_restart;
        } else {
            i_restart = ((1.0 - completed * (1.0 - t_mul)).ln() / t_mul.ln()).floor();
            let sum_r = (1.0 - t_mul.powf(i_restart)) / (1.0 - t_mul);
            completed = (completed - sum_r) / t_mul.powf(i_restart);
        }
        let m_fac = m_mul.powf(i_restart);
        let cosine = 0.5 * m_fac * (1.0 + (std::f32::consts::PI * completed).cos());
        let decayed = (1.0 - alpha) * cosine + alpha;
        initial * decayed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_period_is_t_mul_times_longer() {
        let s = CosineDecayRestarts::new(0.1, 10).unwrap();
        // Period 2 spans steps 10..30; its midpoint is step 20.
        assert_eq!(s.learning_rate(10), 0.1);
        assert!((s.learning_rate(20) - 0.05).abs() < 1e-7);
    }

    #[test]
    fn restarts_start_m_mul_times_lower() {
        let s = CosineDecayRestarts::new(0.1, 10)
            .unwrap()
            .with_t_mul(1.0)
            .unwrap()
            .with_m_mul(0.5);
        assert!((s.learning_rate(10) - 0.05).abs() < 1e-8);
        assert!(CosineDecayRestarts::new(0.1, 10)
            .unwrap()
            .with_t_mul(0.0)
            .is_err());
        assert!(CosineDecayRestarts::new(0.1, 0).is_err());
    }
}
