//! A schedule from a closure.

use super::LearningRateSchedule;

/// A schedule computed by a function of the step, like passing a callable as Keras's
/// `learning_rate`.
///
/// # Examples
/// ```
/// use keras_core::optimizers::schedules::{FnSchedule, LearningRateSchedule};
/// let halving = FnSchedule::new(|step| 0.1 * 0.5f32.powi(step as i32));
/// assert_eq!(halving.learning_rate(2), 0.025);
/// ```
#[derive(Clone, Copy)]
pub struct FnSchedule<F> {
    f: F,
}

impl<F: Fn(u64) -> f32> FnSchedule<F> {
    /// Wraps `f`, which maps the optimizer step to a learning rate.
    pub fn new(f: F) -> Self {
        Self { f }
    }
}

impl<F: Fn(u64) -> f32> LearningRateSchedule for FnSchedule<F> {
    fn learning_rate(&self, step: u64) -> f32 {
        (self.f)(step)
    }
}

impl<F> std::fmt::Debug for FnSchedule<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FnSchedule")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_the_closure_with_the_step() {
        let s = FnSchedule::new(|step| step as f32 * 2.0);
        assert_eq!(s.learning_rate(0), 0.0);
        assert_eq!(s.learning_rate(21), 42.0);
        assert_eq!(format!("{s:?}"), "FnSchedule");
    }
}
