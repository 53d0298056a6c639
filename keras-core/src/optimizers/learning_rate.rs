//! An optimizer's learning rate: a constant or a schedule.

use super::schedules::LearningRateSchedule;
use crate::{Error, Result};

/// The learning rate an optimizer holds: a constant (stored as `f32`, like Keras's
/// `learning_rate` variable) or a schedule evaluated at the optimizer's raw step count.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{schedules::{InverseTimeDecay, NoSchedule}, LearningRate};
/// let constant: LearningRate<NoSchedule> = LearningRate::Constant(0.01);
/// assert_eq!(constant.at(123), 0.01);
/// let scheduled = LearningRate::Schedule(InverseTimeDecay::new(0.1, 10, 1.0).unwrap());
/// assert_eq!(scheduled.at(10), 0.05);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LearningRate<S> {
    /// A fixed value.
    Constant(f32),
    /// A schedule of the step.
    Schedule(S),
}

impl<S: LearningRateSchedule> LearningRate<S> {
    /// The learning rate at raw optimizer step `step`.
    pub fn at(&self, step: u64) -> f32 {
        match self {
            LearningRate::Constant(lr) => *lr,
            LearningRate::Schedule(s) => s.learning_rate(step),
        }
    }

    /// Whether this is a schedule.
    pub fn is_schedule(&self) -> bool {
        matches!(self, LearningRate::Schedule(_))
    }
}

/// `Err(InvalidArgument)` for a negative, NaN or infinite learning rate.
pub(crate) fn check_learning_rate(lr: f32) -> Result<()> {
    if lr >= 0.0 && lr.is_finite() {
        Ok(())
    } else {
        Err(Error::invalid(
            "learning_rate",
            format!("must be a finite number >= 0, got {lr}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::schedules::NoSchedule;

    #[test]
    fn a_constant_ignores_the_step() {
        let lr: LearningRate<NoSchedule> = LearningRate::Constant(0.5);
        assert_eq!(lr.at(0), 0.5);
        assert_eq!(lr.at(u64::MAX), 0.5);
        assert!(!lr.is_schedule());
    }

    #[test]
    fn negative_and_nan_rates_are_rejected() {
        assert!(check_learning_rate(0.0).is_ok());
        assert!(check_learning_rate(-1e-3).is_err());
        assert!(check_learning_rate(f32::NAN).is_err());
        assert!(check_learning_rate(f32::INFINITY).is_err());
    }
}
