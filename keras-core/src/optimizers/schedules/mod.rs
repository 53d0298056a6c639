//! Learning-rate schedules (`keras.optimizers.schedules`), evaluated per optimizer step.
//!
//! A schedule maps the optimizer's raw step count (Keras's `optimizer._iterations`, which counts
//! every `apply` call, gradient-accumulation micro-steps included) to a learning rate. All
//! arithmetic is `f32`, as in Keras: the step is cast to `f32` and every Python-float parameter
//! is rounded to `f32` where Keras converts it to a tensor.
//!
//! Give one to an optimizer with `with_schedule`:
//! ```
//! use keras_core::optimizers::{schedules::ExponentialDecay, Adam, Optimizer};
//! let decay = ExponentialDecay::new(0.1, 2, 0.5).unwrap();
//! let opt = Adam::new().with_schedule(decay).build().unwrap();
//! assert_eq!(opt.learning_rate(), 0.1);
//! ```

mod cosine_decay;
mod cosine_decay_restarts;
mod exponential_decay;
mod fn_schedule;
mod inverse_time_decay;
mod no_schedule;
mod piecewise_constant_decay;
mod polynomial_decay;
mod step_decay;

pub use cosine_decay::CosineDecay;
pub use cosine_decay_restarts::CosineDecayRestarts;
pub use exponential_decay::ExponentialDecay;
pub use fn_schedule::FnSchedule;
pub use inverse_time_decay::InverseTimeDecay;
pub use no_schedule::NoSchedule;
pub use piecewise_constant_decay::PiecewiseConstantDecay;
pub use polynomial_decay::PolynomialDecay;

/// A learning rate as a function of the optimizer step (Keras's `LearningRateSchedule`).
pub trait LearningRateSchedule {
    /// The learning rate at `step` (Keras's `schedule(step)`).
    fn learning_rate(&self, step: u64) -> f32;
}

/// `Err(InvalidArgument)` for a zero step count.
pub(crate) fn check_steps(name: &'static str, steps: u64) -> crate::Result<()> {
    if steps == 0 {
        Err(crate::Error::invalid(name, "must be > 0, got 0"))
    } else {
        Ok(())
    }
}
