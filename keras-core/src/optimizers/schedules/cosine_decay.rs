//! `keras.optimizers.schedules.CosineDecay`.

use super::{check_steps, LearningRateSchedule};
use crate::Result;

/// Cosine decay with an optional linear warmup.
///
/// Without warmup: `initial * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps)) + alpha)` with
/// `s = min(step, decay_steps)`. With warmup to `warmup_target` over `warmup_steps`, the rate
/// rises linearly from `initial_learning_rate`, then decays from `warmup_target`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::schedules::{CosineDecay, LearningRateSchedule};
/// let s = CosineDecay::new(0.0, 90).unwrap().with_warmup(0.2, 10);
/// assert_eq!(s.learning_rate(10), 0.2);
/// assert_eq!(s.learning_rate(100), 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CosineDecay {
    initial_learning_rate: f64,
    decay_steps: u64,
    alpha: f64,
    warmup: Option<(f64, u64)>,
}

impl CosineDecay {
    /// A cosine decay from `initial_learning_rate` over `decay_steps` steps. Fails when
    /// `decay_steps` is 0.
    pub fn new(initial_learning_rate: f64, decay_steps: u64) -> Result<Self> {
        check_steps("decay_steps", decay_steps)?;
        Ok(Self {
            initial_learning_rate,
            decay_steps,
            alpha: 0.0,
            warmup: None,
        })
    }

    /// The final rate as a fraction of the rate the decay starts from. Defaults to `0.0`.
    pub fn with_alpha(mut self, alpha: f64) -> Self {
        self.alpha = alpha;
        self
    }

    /// A linear warmup to `warmup_target` over `warmup_steps` before the decay (Keras's
    /// `warmup_target`, `warmup_steps`). Defaults to no warmup.
    pub fn with_warmup(mut self, warmup_target: f64, warmup_steps: u64) -> Self {
        self.warmup = Some((warmup_target, warmup_steps));
        self
    }

    fn decay(&self, step: f32, decay_steps: f32, from: f32) -> f32 {
        let completed = step / decay_steps;
        let cosine = 0.5 * (1.0 + (std::f32::consts::PI * completed).cos());
        let decayed = (1.0 - self.alpha) as f32 * cosine + self.alpha as f32;
        from * decayed
    }
}

impl LearningRateSchedule for CosineDecay {
    fn learning_rate(&self, step: u64) -> f32 {
        let initial = self.initial_learning_rate as f32;
        let decay_steps = self.decay_steps as f32;
        let step = step as f32;
        let Some((target, warmup_steps)) = self.warmup else {
            return self.decay(step.min(decay_steps), decay_steps, initial);
        };
        let target = target as f32;
        let warmup_steps = warmup_steps as f32;
        let step = step.min(decay_steps + warmup_steps);
        if step < warmup_steps {
            (target - initial) * (step / warmup_steps) + initial
        } else {
            self.decay(step - warmup_steps, decay_steps, target)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decays_to_alpha_times_the_initial_rate() {
        let s = CosineDecay::new(0.1, 100).unwrap().with_alpha(0.1);
        assert_eq!(s.learning_rate(0), 0.1);
        assert!((s.learning_rate(100) - 0.01).abs() < 1e-8);
        assert_eq!(s.learning_rate(100), s.learning_rate(5000));
    }

    #[test]
    fn warmup_rises_linearly_to_the_target() {
        let s = CosineDecay::new(0.01, 50).unwrap().with_warmup(0.1, 20);
        assert!((s.learning_rate(10) - 0.055).abs() < 1e-8);
        assert!(CosineDecay::new(0.01, 0).is_err());
    }
}
