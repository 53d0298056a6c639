//! `keras.callbacks.LearningRateScheduler`: set the learning rate from a function of the epoch.

use super::{Callback, CallbackContext};
use crate::{Error, Result};

/// At the start of every epoch, sets the learning rate to `schedule(epoch, current_lr)`; at its
/// end, writes the learning rate to `logs["learning_rate"]`, as Keras does.
///
/// ```
/// use keras_core::callbacks::LearningRateScheduler;
///
/// // Keep the rate for 10 epochs, then decay it by 10% per epoch.
/// let scheduler = LearningRateScheduler::new(|epoch, lr| if epoch < 10 { lr } else { lr * 0.9 })
///     .with_verbose(0);
/// # let _ = scheduler;
/// ```
#[derive(Debug, Clone)]
pub struct LearningRateScheduler<F> {
    schedule: F,
    verbose: u8,
}

impl<F: FnMut(usize, f32) -> f32> LearningRateScheduler<F> {
    /// Uses `schedule(epoch, lr) -> new_lr` (epoch 0-based).
    pub fn new(schedule: F) -> Self {
        Self {
            schedule,
            verbose: 0,
        }
    }

    /// 0: quiet; 1: prints every new learning rate. Defaults to `0`.
    pub fn with_verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
}

impl<F: FnMut(usize, f32) -> f32> Callback for LearningRateScheduler<F> {
    /// No batch hook reads the logs.
    fn reads_batch_logs(&self) -> bool {
        false
    }

    fn on_epoch_begin<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        let lr = (self.schedule)(epoch, ctx.learning_rate());
        if !lr.is_finite() {
            return Err(Error::invalid(
                "schedule",
                format!("the schedule returned {lr} at epoch {epoch}; it must return a finite learning rate"),
            ));
        }
        ctx.set_learning_rate(lr)?;
        if self.verbose > 0 {
            println!(
                "\nEpoch {}: LearningRateScheduler setting learning rate to {lr}.",
                epoch + 1
            );
        }
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, _epoch: usize, ctx: &mut C) -> Result<()> {
        let lr = ctx.learning_rate();
        ctx.logs_mut().set("learning_rate", lr);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;

    #[test]
    fn the_schedule_sees_the_epoch_and_the_current_rate() {
        let mut seen = vec![];
        let mut cb = LearningRateScheduler::new(|epoch, lr| {
            seen.push((epoch, lr));
            lr / 2.0
        });
        let mut ctx = MockContext::new();
        for epoch in 0..3 {
            cb.on_epoch_begin(epoch, &mut ctx).unwrap();
            cb.on_epoch_end(epoch, &mut ctx).unwrap();
            assert_eq!(ctx.logs.get("learning_rate"), Some(ctx.lr));
        }
        assert_eq!(seen, vec![(0, 0.1), (1, 0.05), (2, 0.025)]);
        assert_eq!(ctx.lr, 0.0125);
    }

    #[test]
    fn a_non_finite_rate_is_an_error() {
        let mut cb = LearningRateScheduler::new(|_, _| f32::NAN);
        let err = cb.on_epoch_begin(0, &mut MockContext::new()).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                name: "schedule",
                ..
            }
        ));
    }
}
