//! `keras.callbacks.TerminateOnNaN`: stop when the loss becomes NaN or infinite.

use super::{Callback, CallbackContext};
use crate::{Error, Result};

/// After every training batch, stops training if `logs["loss"]` is NaN or infinite, or returns
/// [`Error::NonFiniteLoss`] when `raise_error` is set.
///
/// ```
/// use keras_core::callbacks::TerminateOnNaN;
///
/// let stop_quietly = TerminateOnNaN::new();
/// let fail = TerminateOnNaN::new().with_raise_error(true);
/// assert!(!stop_quietly.raise_error());
/// assert!(fail.raise_error());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TerminateOnNaN {
    raise_error: bool,
}

impl TerminateOnNaN {
    /// Stops training (no error) on a non-finite loss.
    pub fn new() -> Self {
        Self::default()
    }

    /// Return [`Error::NonFiniteLoss`] instead of stopping quietly. Defaults to `false`.
    pub fn with_raise_error(mut self, raise_error: bool) -> Self {
        self.raise_error = raise_error;
        self
    }

    /// Whether a non-finite loss is an error.
    pub fn raise_error(&self) -> bool {
        self.raise_error
    }
}

impl Callback for TerminateOnNaN {
    fn on_train_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        if let Some(loss) = ctx.logs().get("loss") {
            if !loss.is_finite() {
                if self.raise_error {
                    return Err(Error::NonFiniteLoss { value: loss, batch });
                }
                println!("Batch {batch}: Invalid loss, terminating training");
                ctx.stop_training();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;

    #[test]
    fn a_finite_loss_lets_training_continue() {
        let mut ctx = MockContext::new().with_logs(&[("loss", 0.5)]);
        TerminateOnNaN::new()
            .on_train_batch_end(0, &mut ctx)
            .unwrap();
        assert!(!ctx.stop);
    }

    #[test]
    fn a_nan_loss_stops_training() {
        let mut ctx = MockContext::new().with_logs(&[("loss", f32::NAN)]);
        TerminateOnNaN::new()
            .on_train_batch_end(3, &mut ctx)
            .unwrap();
        assert!(ctx.stop);
    }

    #[test]
    fn an_infinite_loss_is_an_error_when_asked() {
        let mut ctx = MockContext::new().with_logs(&[("loss", f32::INFINITY)]);
        let err = TerminateOnNaN::new()
            .with_raise_error(true)
            .on_train_batch_end(7, &mut ctx)
            .unwrap_err();
        assert!(matches!(err, Error::NonFiniteLoss { value, batch: 7 } if value == f32::INFINITY));
        assert!(!ctx.stop);
    }
}
