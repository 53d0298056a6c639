//! `keras.optimizers.schedules.ExponentialDecay`.

use super::step_decay::StepDecay;
use super::LearningRateSchedule;
use crate::Result;

/// `initial_learning_rate * decay_rate ^ (step / decay_steps)`, with `step / decay_steps`
/// floored when `staircase` is set.
///
/// # Examples
/// ```
/// use keras_core::optimizers::schedules::{ExponentialDecay, LearningRateSchedule};
/// let s = ExponentialDecay::new(0.1, 10, 0.5).unwrap().with_staircase(true);
/// assert_eq!(s.learning_rate(9), 0.1);
/// assert_eq!(s.learning_rate(10), 0.05);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExponentialDecay {
    decay: StepDecay,
}

impl ExponentialDecay {
    /// A schedule starting at `initial_learning_rate` and multiplied by `decay_rate` every
    /// `decay_steps` steps. Fails when `decay_steps` is 0.
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

impl LearningRateSchedule for ExponentialDecay {
    fn learning_rate(&self, step: u64) -> f32 {
        let (initial, decay_rate, p) = self.decay.at(step);
        initial * decay_rate.powf(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_every_decay_steps() {
        let s = ExponentialDecay::new(0.1, 10, 0.5).unwrap();
        assert_eq!(s.learning_rate(0), 0.1);
        assert!((s.learning_rate(20) - 0.025).abs() < 1e-9);
        assert!((s.learning_rate(5) - 0.070_710_68).abs() < 1e-7);
    }

    #[test]
    fn zero_decay_steps_is_an_invalid_argument() {
        let err = ExponentialDecay::new(0.1, 0, 0.5).unwrap_err();
        assert!(matches!(
            err,
            crate::Error::InvalidArgument {
                name: "decay_steps",
                ..
            }
        ));
    }
}
