//! The schedule type of an optimizer with a constant learning rate.

use super::LearningRateSchedule;

/// The schedule type parameter of an optimizer whose learning rate is a constant. It has no
/// value: an optimizer built with a constant learning rate never evaluates a schedule.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{schedules::NoSchedule, KerasOptimizer, Sgd};
/// let opt: KerasOptimizer<Sgd, NoSchedule> = Sgd::new().build().unwrap();
/// # let _ = opt;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoSchedule {}

impl LearningRateSchedule for NoSchedule {
    fn learning_rate(&self, _step: u64) -> f32 {
        match *self {}
    }
}
