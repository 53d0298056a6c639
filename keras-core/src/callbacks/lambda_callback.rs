//! `keras.callbacks.LambdaCallback`: a callback made of closures.

use super::{Callback, CallbackContext, Logs};
use crate::Result;

/// The type of an unset epoch or batch hook (`fn(usize, &Logs)`, a no-op).
pub type IndexHook = fn(usize, &Logs);
/// The type of an unset train begin/end hook (`fn(&Logs)`, a no-op).
pub type LogsHook = fn(&Logs);

fn no_index_hook(_: usize, _: &Logs) {}
fn no_logs_hook(_: &Logs) {}

/// A callback whose hooks are closures; each unset hook is a no-op function pointer.
///
/// Keras's six hooks are available: `on_epoch_begin(epoch, logs)`, `on_epoch_end(epoch, logs)`,
/// `on_train_begin(logs)`, `on_train_end(logs)`, `on_train_batch_begin(batch, logs)` and
/// `on_train_batch_end(batch, logs)`. Each `with_*` method swaps in a closure and changes the
/// matching type parameter, so everything is statically dispatched.
///
/// ```
/// use keras_core::callbacks::LambdaCallback;
///
/// let mut losses = Vec::new();
/// let cb = LambdaCallback::new()
///     .with_on_epoch_end(|epoch, logs| losses.push((epoch, logs.get("loss"))))
///     .with_on_train_end(|_| println!("done"));
/// # let _ = cb;
/// ```
#[derive(Debug, Clone)]
pub struct LambdaCallback<
    EB = IndexHook,
    EE = IndexHook,
    TB = LogsHook,
    TE = LogsHook,
    BB = IndexHook,
    BE = IndexHook,
> {
    epoch_begin: EB,
    epoch_end: EE,
    train_begin: TB,
    train_end: TE,
    batch_begin: BB,
    batch_end: BE,
}

impl Default for LambdaCallback {
    fn default() -> Self {
        Self::new()
    }
}

impl LambdaCallback {
    /// A callback with every hook a no-op.
    pub fn new() -> Self {
        Self {
            epoch_begin: no_index_hook,
            epoch_end: no_index_hook,
            train_begin: no_logs_hook,
            train_end: no_logs_hook,
            batch_begin: no_index_hook,
            batch_end: no_index_hook,
        }
    }
}

impl<EB, EE, TB, TE, BB, BE> LambdaCallback<EB, EE, TB, TE, BB, BE> {
    /// Runs `f(epoch, logs)` at the start of each epoch. Defaults to `|_, _| {}`.
    pub fn with_on_epoch_begin<F: FnMut(usize, &Logs)>(
        self,
        f: F,
    ) -> LambdaCallback<F, EE, TB, TE, BB, BE> {
        LambdaCallback {
            epoch_begin: f,
            epoch_end: self.epoch_end,
            train_begin: self.train_begin,
            train_end: self.train_end,
            batch_begin: self.batch_begin,
            batch_end: self.batch_end,
        }
    }

    /// Runs `f(epoch, logs)` at the end of each epoch (logs hold the epoch's results). Defaults to
    /// `|_, _| {}`.
    pub fn with_on_epoch_end<F: FnMut(usize, &Logs)>(
        self,
        f: F,
    ) -> LambdaCallback<EB, F, TB, TE, BB, BE> {
        LambdaCallback {
            epoch_begin: self.epoch_begin,
            epoch_end: f,
            train_begin: self.train_begin,
            train_end: self.train_end,
            batch_begin: self.batch_begin,
            batch_end: self.batch_end,
        }
    }

    /// Runs `f(logs)` at the start of training. Defaults to `|_| {}`.
    pub fn with_on_train_begin<F: FnMut(&Logs)>(
        self,
        f: F,
    ) -> LambdaCallback<EB, EE, F, TE, BB, BE> {
        LambdaCallback {
            epoch_begin: self.epoch_begin,
            epoch_end: self.epoch_end,
            train_begin: f,
            train_end: self.train_end,
            batch_begin: self.batch_begin,
            batch_end: self.batch_end,
        }
    }

    /// Runs `f(logs)` at the end of training. Defaults to `|_| {}`.
    pub fn with_on_train_end<F: FnMut(&Logs)>(self, f: F) -> LambdaCallback<EB, EE, TB, F, BB, BE> {
        LambdaCallback {
            epoch_begin: self.epoch_begin,
            epoch_end: self.epoch_end,
            train_begin: self.train_begin,
            train_end: f,
            batch_begin: self.batch_begin,
            batch_end: self.batch_end,
        }
    }

    /// Runs `f(batch, logs)` before each training batch. Defaults to `|_, _| {}`.
    pub fn with_on_train_batch_begin<F: FnMut(usize, &Logs)>(
        self,
        f: F,
    ) -> LambdaCallback<EB, EE, TB, TE, F, BE> {
        LambdaCallback {
            epoch_begin: self.epoch_begin,
            epoch_end: self.epoch_end,
            train_begin: self.train_begin,
            train_end: self.train_end,
            batch_begin: f,
            batch_end: self.batch_end,
        }
    }

    /// Runs `f(batch, logs)` after each training batch (logs hold the running means). Defaults to
    /// `|_, _| {}`.
    pub fn with_on_train_batch_end<F: FnMut(usize, &Logs)>(
        self,
        f: F,
    ) -> LambdaCallback<EB, EE, TB, TE, BB, F> {
        LambdaCallback {
            epoch_begin: self.epoch_begin,
            epoch_end: self.epoch_end,
            train_begin: self.train_begin,
            train_end: self.train_end,
            batch_begin: self.batch_begin,
            batch_end: f,
        }
    }
}

impl<EB, EE, TB, TE, BB, BE> Callback for LambdaCallback<EB, EE, TB, TE, BB, BE>
where
    EB: FnMut(usize, &Logs),
    EE: FnMut(usize, &Logs),
    TB: FnMut(&Logs),
    TE: FnMut(&Logs),
    BB: FnMut(usize, &Logs),
    BE: FnMut(usize, &Logs),
{
    fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (self.train_begin)(ctx.logs());
        Ok(())
    }
    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        (self.train_end)(ctx.logs());
        Ok(())
    }
    fn on_epoch_begin<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        (self.epoch_begin)(epoch, ctx.logs());
        Ok(())
    }
    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        (self.epoch_end)(epoch, ctx.logs());
        Ok(())
    }
    fn on_train_batch_begin<C: CallbackContext>(
        &mut self,
        batch: usize,
        ctx: &mut C,
    ) -> Result<()> {
        (self.batch_begin)(batch, ctx.logs());
        Ok(())
    }
    fn on_train_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        (self.batch_end)(batch, ctx.logs());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;

    #[test]
    fn each_hook_calls_its_closure_with_the_index_and_logs() {
        let mut events: Vec<String> = vec![];
        let log = std::cell::RefCell::new(&mut events);
        let mut cb = LambdaCallback::new()
            .with_on_train_begin(|_| log.borrow_mut().push("train_begin".into()))
            .with_on_epoch_begin(|e, _| log.borrow_mut().push(format!("epoch_begin {e}")))
            .with_on_train_batch_begin(|b, _| log.borrow_mut().push(format!("batch_begin {b}")))
            .with_on_train_batch_end(|b, l| {
                log.borrow_mut()
                    .push(format!("batch_end {b} {:?}", l.get("loss")))
            })
            .with_on_epoch_end(|e, l| {
                log.borrow_mut()
                    .push(format!("epoch_end {e} {:?}", l.get("loss")))
            })
            .with_on_train_end(|_| log.borrow_mut().push("train_end".into()));
        let mut ctx = MockContext::new().with_logs(&[("loss", 0.5)]);
        cb.on_train_begin(&mut ctx).unwrap();
        cb.on_epoch_begin(0, &mut ctx).unwrap();
        cb.on_train_batch_begin(0, &mut ctx).unwrap();
        cb.on_train_batch_end(0, &mut ctx).unwrap();
        cb.on_epoch_end(0, &mut ctx).unwrap();
        cb.on_train_end(&mut ctx).unwrap();
        assert_eq!(
            events,
            [
                "train_begin",
                "epoch_begin 0",
                "batch_begin 0",
                "batch_end 0 Some(0.5)",
                "epoch_end 0 Some(0.5)",
                "train_end"
            ]
        );
    }

    #[test]
    fn unset_hooks_do_nothing() {
        let mut ctx = MockContext::new();
        let mut cb = LambdaCallback::new();
        cb.on_epoch_end(0, &mut ctx).unwrap();
        assert!(!ctx.stop);
    }
}
