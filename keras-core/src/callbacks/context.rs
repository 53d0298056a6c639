//! What a callback can see and change while the trainer runs.

use crate::state::{History, Logs};
use crate::{
    metrics::Direction,
    state::{FlatParams, HyperParameters, ResumePoint},
    Error, Result,
};

/// The run's parameters, as Keras's `callback.params` (`epochs`, `steps`, `verbose`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunParams {
    /// The final epoch index (`fit`'s `epochs`); 0 for evaluate/predict.
    pub epochs: usize,
    /// Steps per epoch, when known.
    pub steps: Option<usize>,
    /// Verbosity (0, 1 or 2).
    pub verbose: u8,
}

/// The trainer's side of a callback call: logs, stopping, learning rate and weights.
///
/// The trainer implements this; callbacks are generic over it, so no `dyn` is involved.
pub trait CallbackContext {
    /// The logs of the current hook (batch logs in batch hooks, epoch logs in `on_epoch_end`).
    fn logs(&self) -> &Logs;

    /// Mutable logs (e.g. `ReduceLROnPlateau` writes `learning_rate`).
    fn logs_mut(&mut self) -> &mut Logs;

    /// Asks the trainer to stop after the current batch/epoch (Keras's
    /// `model.stop_training = True`).
    fn stop_training(&mut self);

    /// Whether a stop was requested.
    fn stop_requested(&self) -> bool;

    /// The run's parameters.
    fn params(&self) -> RunParams;

    /// The optimizer's current learning rate.
    fn learning_rate(&self) -> f32;

    /// Sets the optimizer's learning rate.
    fn set_learning_rate(&mut self, lr: f32) -> Result<()>;

    /// The optimizer's iteration count.
    fn iterations(&self) -> u64;

    /// The model's current weights (flat, in visiting order, with names and shapes). Reading
    /// them may copy them from the device, where the training steps left them.
    fn weights(&mut self) -> Result<&FlatParams>;

    /// Replaces the model's weights (same layout as [`CallbackContext::weights`]).
    fn set_weights(&mut self, values: &[f32]) -> Result<()>;

    /// The optimizer's state, for checkpoints and backups (copied from the device where the
    /// training steps keep it).
    fn optimizer_state(&mut self) -> Result<Vec<(String, Vec<f32>)>>;

    /// Restores the optimizer's state.
    fn load_optimizer_state(&mut self, state: &[(String, Vec<f32>)]) -> Result<()>;

    /// Whether larger or smaller is better for the compiled metric called `name` (without a
    /// `val_` prefix), as Keras's `metric._direction`; `None` when the trainer does not know it.
    /// `Mode::Auto` monitors use it before falling back to the metric's name. Defaults to `None`.
    fn metric_direction(&self, name: &str) -> Option<Direction> {
        let _ = name;
        None
    }

    /// During `fit`: the point a later `fit` would resume at if training stopped right after
    /// this hook (next epoch and batch, data position, running loss and metric states,
    /// history). In `on_train_batch_end` it is the next batch of the same epoch; in
    /// `on_epoch_end` the start of the next epoch. `None` outside `fit` (evaluate, predict,
    /// validation). Defaults to `None`. Taking it reads the running states from the device when
    /// training keeps them there, which can fail with a device error.
    fn resume_point(&self) -> Result<Option<ResumePoint>> {
        Ok(None)
    }

    /// During `fit`: the [`History`] logged so far. Defaults to `None`.
    fn history(&self) -> Option<&History> {
        None
    }

    /// In `on_train_begin` of `fit`: asks the trainer to continue a previous run from `point`
    /// (its epoch, batch, data position, running metrics and history) once every callback's
    /// `on_train_begin` has run. The weights and the optimizer state are the callback's to
    /// restore. Defaults to an error: the context cannot resume.
    fn request_resume(&mut self, point: ResumePoint) -> Result<()> {
        let _ = point;
        Err(Error::invalid(
            "resume",
            "a resume can only be requested in on_train_begin of fit",
        ))
    }

    /// The model's non-trainable tensors (BatchNormalization's moving statistics), named and
    /// shaped as [`CallbackContext::weights`]. Defaults to none.
    fn non_trainable_weights(&self) -> Result<FlatParams> {
        Ok(FlatParams::default())
    }

    /// The model's layer hyper-parameters (Dropout's rate, ...), named by field path, for the
    /// files a callback writes to record; `None` (the default) when the context does not know
    /// them, and the file then records none.
    fn hyper_parameters(&self) -> Result<Option<HyperParameters>> {
        Ok(None)
    }

    /// Replaces the model's non-trainable tensors (same layout as
    /// [`CallbackContext::non_trainable_weights`]). Defaults to accepting only an empty slice.
    fn set_non_trainable_weights(&mut self, values: &[f32]) -> Result<()> {
        if values.is_empty() {
            Ok(())
        } else {
            Err(Error::invalid(
                "non_trainable_weights",
                "this context has no non-trainable weights",
            ))
        }
    }

    /// Whether this process is the one whose callbacks write files and print: always in a
    /// single-process run; in a data-parallel `fit`
    /// ([`distribution`](crate::distribution)), only process 0. Callbacks that write
    /// (checkpoints, CSV, TensorBoard, backups, the progress bar) do nothing elsewhere;
    /// callbacks that decide (early stopping, learning-rate changes) run everywhere, on the
    /// same logs. Defaults to `true`.
    fn is_chief(&self) -> bool {
        true
    }
}
