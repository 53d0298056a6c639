//! What [`ExponentialDecay`](super::ExponentialDecay) and
//! [`InverseTimeDecay`](super::InverseTimeDecay) share: Keras's `initial_learning_rate`,
//! `decay_steps`, `decay_rate` and `staircase`, and the decay progress `step / decay_steps`.

use super::check_steps;
use crate::Result;

/// The parameters of a decay that progresses by `step / decay_steps`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct StepDecay {
    initial_learning_rate: f64,
    decay_steps: u64,
    decay_rate: f64,
    /// Floor the progress to whole intervals.
    pub staircase: bool,
}

impl StepDecay {
    /// Fails when `decay_steps` is 0; `staircase` starts off.
    pub(crate) fn new(
        initial_learning_rate: f64,
        decay_steps: u64,
        decay_rate: f64,
    ) -> Result<Self> {
        check_steps("decay_steps", decay_steps)?;
        Ok(Self {
            initial_learning_rate,
            decay_steps,
            decay_rate,
            staircase: false,
        })
    }

    /// `(initial_learning_rate, decay_rate, step / decay_steps)` in `f32`, as Keras casts them;
    /// the progress is floored with `staircase`.
    pub(crate) fn at(&self, step: u64) -> (f32, f32, f32) {
        let mut p = step as f32 / self.decay_steps as f32;
        if self.staircase {
            p = p.floor();
        }
        (self.initial_learning_rate as f32, self.decay_rate as f32, p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staircase_floors_the_progress() {
        let mut d = StepDecay::new(0.1, 4, 0.5).unwrap();
        assert_eq!(d.at(6), (0.1, 0.5, 1.5));
        d.staircase = true;
        assert_eq!(d.at(6).2, 1.0);
        assert!(StepDecay::new(0.1, 0, 0.5).is_err());
    }
}
