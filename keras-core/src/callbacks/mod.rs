//! Callbacks: Keras's hooks into `fit`, `evaluate` and `predict`, statically dispatched.
//!
//! The loop exists once, in the trainer; everything else (history, progress bars, early stopping,
//! checkpoints, ...) hooks in as a [`Callback`]. Callbacks compose as tuples: `()` is none,
//! `(A, B)` runs `A` then `B` on every hook.
//!
//! Built-in callbacks, with Keras's arguments and defaults: [`History`], [`ProgbarLogger`],
//! [`EarlyStopping`], [`ReduceLROnPlateau`], [`LearningRateScheduler`], [`TerminateOnNaN`],
//! [`LambdaCallback`], [`CSVLogger`], [`ModelCheckpoint`], [`BackupAndRestore`],
//! [`TensorBoard`] and [`SwapEMAWeights`]. [`Monitor`] holds the logic shared by the monitoring ones (Keras's
//! `MonitorCallback`).

mod backup_and_restore;
mod context;
mod csv_logger;
mod early_stopping;
mod history;
mod lambda_callback;
mod learning_rate_scheduler;
mod model_checkpoint;
mod monitor;
mod progbar_logger;
mod reduce_lr_on_plateau;
mod swap_ema_weights;
mod tensorboard;
mod terminate_on_nan;
#[cfg(test)]
mod test_context;
mod tuple;

pub use crate::state::{History, Logs};
pub use backup_and_restore::BackupAndRestore;
pub use context::{CallbackContext, RunParams};
pub use csv_logger::CSVLogger;
pub use early_stopping::EarlyStopping;
pub use lambda_callback::{IndexHook, LambdaCallback, LogsHook};
pub use learning_rate_scheduler::LearningRateScheduler;
pub use model_checkpoint::{ModelCheckpoint, SaveFreq};
pub use monitor::{Mode, Monitor};
pub use progbar_logger::ProgbarLogger;
pub use reduce_lr_on_plateau::ReduceLROnPlateau;
pub use swap_ema_weights::SwapEMAWeights;
pub use tensorboard::{TensorBoard, UpdateFreq};
pub use terminate_on_nan::TerminateOnNaN;

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
    fn on_train_batch_begin<C: CallbackContext>(
        &mut self,
        batch: usize,
        ctx: &mut C,
    ) -> Result<()> {
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
    fn on_predict_batch_begin<C: CallbackContext>(
        &mut self,
        batch: usize,
        ctx: &mut C,
    ) -> Result<()> {
        Ok(())
    }
    /// After a prediction batch.
    fn on_predict_batch_end<C: CallbackContext>(
        &mut self,
        batch: usize,
        ctx: &mut C,
    ) -> Result<()> {
        Ok(())
    }
    /// Whether this callback reads the logs (`ctx.logs()`) in its batch hooks
    /// (`on_train_batch_*`, `on_test_batch_*`). When no callback of a `fit` (or `evaluate`)
    /// does, the trainer reads the running loss and metrics (kept on the device, see
    /// [`Trainer::set_metrics_on_device`](crate::Trainer::set_metrics_on_device)) once per
    /// epoch (once per evaluation) instead of after every batch, as Keras's JAX trainer skips
    /// its per-batch reads; the batch hooks then see the logs as they were last read. Asked
    /// after `on_train_begin` (`on_test_begin`). Defaults to `true`; the built-in callbacks say exactly when they do.
    fn reads_batch_logs(&self) -> bool {
        true
    }

    /// The callback's own state as JSON (e.g. `EarlyStopping`'s `wait` and `best`), which the
    /// trainer gathers from every callback of a run for [`Callback::on_snapshot`] and hands
    /// back on a resume. `None` for stateless callbacks.
    fn state(&self) -> Option<serde_json::Value> {
        None
    }
    /// Restores a state written by [`Callback::state`].
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        Ok(())
    }

    /// Whether this callback wants a snapshot of the run now: asked after every callback's
    /// `on_train_batch_end` and `on_epoch_end` in `fit`. In a data-parallel `fit` the answer
    /// must be the same on every process (a snapshot sums the running states across them); a
    /// decision made from the batch and epoch counts, as `BackupAndRestore`'s, is. Defaults to
    /// `false`.
    fn wants_snapshot(&self) -> bool {
        false
    }
    /// The run's snapshot, when some callback [wants one](Callback::wants_snapshot): called on
    /// every callback after every callback's `on_train_batch_end` (or `on_epoch_end`) ran, with
    /// a context whose [`resume_point`](CallbackContext::resume_point) carries every callback's
    /// [`state`](Callback::state) as they stand then. `BackupAndRestore` writes its backups
    /// here, so that it needs to hold no other callback. Defaults to nothing.
    fn on_snapshot<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        Ok(())
    }
}
