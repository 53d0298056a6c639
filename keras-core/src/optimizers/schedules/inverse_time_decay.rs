//! `keras.optimizers.schedules.InverseTimeDecay`.

use super::step_decay::StepDecay;
use super::LearningRateSchedule;
use crate::Result;

/// `initial_learning_rate / (1 + decay_rate * step / decay_steps)`, with `step / decay_steps`
/// floored when `staircase` is set.
///
/// # Examples
/// ```
/// use keras_core::optimizers::schedules::{InverseTimeDecay, LearningRateSchedule};
/// let s = InverseTimeDecay::new(0.1, 10, 1.0).unwrap();
/// assert_eq!(s.learning_rate(10), 0.05);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InverseTimeDecay {
    decay: StepDecay,
}

impl InverseTimeDecay {
    /// A schedule starting at `initial_learning_rate` and decaying as `1/t`. Fails when
    /// `decay_steps` is 0.
    pub fn new(initial_learning_rate: f64, decay_steps: u64, decay_rate: f64) -> Result<Self> {
        Ok(Self {
            decay: StepDecay::new(initial_learning_rate, decay_steps, decay_rate)?,
        })
    }

    /// Decay in discrete intervals (`floor(step / decay_steps)`). Defaults to `false`.
    pub fn with_staircase(mut self, staircase: bool) -> Self {
        self.decay.staircase = staircase;
        self
    }
}

impl LearningRateSchedule for InverseTimeDecay {
    fn learning_rate(&self, step: u64) -> f32 {
        let (initial, decay_rate, p) = self.decay.at(step);
        initial / (1.0 + decay_rate * p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_holds_the_rate_within_an_interval() {
        let s = InverseTimeDecay::new(0.1, 10, 0.5)
            .unwrap()
            .with_staircase(true);
        assert_eq!(s.learning_rate(9), 0.1);
        assert_eq!(s.learning_rate(19), s.learning_rate(10));
    }

    #[test]
    fn zero_decay_steps_is_an_invalid_argument() {
        assert!(InverseTimeDecay::new(0.1, 0, 0.5).is_err());
    }
}
