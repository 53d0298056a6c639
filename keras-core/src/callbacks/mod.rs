//! Callbacks: Keras's hooks into `fit`, `evaluate` and `predict`, statically dispatched.
//!
//! The loop exists once, in the trainer; everything else (history, progress bars, early stopping,
//! checkpoints, ...) hooks in as a [`Callback`]. Callbacks compose as tuples: `()` is none,
//! `(A, B)` runs `A` then `B` on every hook.

mod context;
mod history;
mod logs;
mod tuple;

pub use context::{CallbackContext, RunParams};
pub use history::History;
pub use logs::Logs;

use crate::Result;

/// A set of hooks, each a no-op by default. Hooks return `Result` so that a failing callback
/// (an unwritable checkpoint, `TerminateOnNaN` with `raise_error`) stops the run with an error.
#[allow(unused_variables)]
pub trait Callback {
    /// Start of `fit`.
    fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// End of `fit` (after the EMA overwrite).
    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// Start of an epoch (0-based).
    fn on_epoch_begin<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// End of an epoch; `ctx.logs()` holds the epoch's logs, `val_*` included.
    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// Before a training batch (0-based index within the epoch).
    fn on_train_batch_begin<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// After a training batch; `ctx.logs()` holds the running epoch means.
    fn on_train_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// Start of `evaluate` (also of validation inside `fit`).
    fn on_test_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// End of `evaluate`; `ctx.logs()` holds the results.
    fn on_test_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// Before an evaluation batch.
    fn on_test_batch_begin<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// After an evaluation batch.
    fn on_test_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// Start of `predict`.
    fn on_predict_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// End of `predict`.
    fn on_predict_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// Before a prediction batch.
    fn on_predict_batch_begin<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// After a prediction batch.
    fn on_predict_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        Ok(())
    }
    /// The callback's own state as JSON, for `BackupAndRestore` (e.g. `EarlyStopping`'s `wait`
    /// and `best`). `None` for stateless callbacks.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Restores a state written by [`Callback::state`].
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        Ok(())
    }
}
