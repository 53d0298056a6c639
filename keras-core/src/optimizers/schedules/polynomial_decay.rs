//! `keras.optimizers.schedules.PolynomialDecay`.

use super::{check_steps, LearningRateSchedule};
use crate::Result;

/// `(initial - end) * (1 - step / decay_steps) ^ power + end`, with `step` clamped to
/// `decay_steps`; with `cycle`, `decay_steps` is instead stretched to the first multiple of it
/// that is at least `step` (1 at step 0).
///
/// # Examples
/// ```
/// use keras_core::optimizers::schedules::{LearningRateSchedule, PolynomialDecay};
/// let s = PolynomialDecay::new(0.1, 100).unwrap().with_end_learning_rate(0.0);
/// assert_eq!(s.learning_rate(50), 0.05);
/// assert_eq!(s.learning_rate(500), 0.0);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PolynomialDecay {
    initial_learning_rate: f64,
    decay_steps: u64,
    end_learning_rate: f64,
    power: f64,
    cycle: bool,
}

impl PolynomialDecay {
    /// A schedule from `initial_learning_rate` to the end learning rate over `decay_steps`
    /// steps. Fails when `decay_steps` is 0.
    pub fn new(initial_learning_rate: f64, decay_steps: u64) -> Result<Self> {
        check_steps("decay_steps", decay_steps)?;
        Ok(Self {
            initial_learning_rate,
            decay_steps,
            end_learning_rate: 1e-4,
            power: 1.0,
            cycle: false,
        })
    }

    /// The learning rate reached after `decay_steps`. Defaults to `0.0001`.
    pub fn with_end_learning_rate(mut self, end_learning_rate: f64) -> Self {
        self.end_learning_rate = end_learning_rate;
        self
    }

    /// The power of the polynomial. Defaults to `1.0`.
    pub fn with_power(mut self, power: f64) -> Self {
        self.power = power;
        self
    }

    /// Restart the decay after each multiple of `decay_steps`. Defaults to `false`.
    pub fn with_cycle(mut self, cycle: bool) -> Self {
        self.cycle = cycle;
        self
    }
}

impl LearningRateSchedule for PolynomialDecay {
    fn learning_rate(&self, step: u64) -> f32 {
        let initial = self.initial_learning_rate as f32;
        let end = self.end_learning_rate as f32;
        let power = self.power as f32;
        let mut step = step as f32;
        let mut decay_steps = self.decay_steps as f32;
        if self.cycle {
            let multiplier = if step == 0.0 {
                1.0
            } else {
                (step / decay_steps).ceil()
            };
            decay_steps *= multiplier;
        } else {
            step = step.min(decay_steps);
        }
        let p = step / decay_steps;
        (initial - end) * (1.0 - p).powf(power) + end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cycling_restarts_from_a_stretched_horizon() {
        let s = PolynomialDecay::new(0.1, 40)
            .unwrap()
            .with_end_learning_rate(0.01)
            .with_cycle(true);
        assert_eq!(s.learning_rate(0), 0.1);
        // step 50 decays over 80 steps: 0.09 * (1 - 50/80) + 0.01
        assert!((s.learning_rate(50) - 0.04375).abs() < 1e-7);
    }

    #[test]
    fn without_cycle_the_rate_stays_at_the_end_value() {
        let s = PolynomialDecay::new(0.1, 10).unwrap().with_power(2.0);
        assert_eq!(s.learning_rate(10), s.learning_rate(1000));
        assert!(PolynomialDecay::new(0.1, 0).is_err());
    }
}
