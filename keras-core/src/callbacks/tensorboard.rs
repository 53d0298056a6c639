//! `keras.callbacks.TensorBoard`: scalar summaries that TensorBoard can display.

use std::path::{Path, PathBuf};

use super::{Callback, CallbackContext};
use crate::persist::event_file::EventWriter;
use crate::{Error, Result};

/// How often [`TensorBoard`] writes training scalars.
///
/// ```
/// use keras_core::callbacks::{TensorBoard, UpdateFreq};
///
/// assert!(TensorBoard::new("logs").with_update_freq(UpdateFreq::Batches(0)).is_err());
/// let tb = TensorBoard::new("logs").with_update_freq(UpdateFreq::Epoch)?;
/// assert_eq!(tb.log_dir(), std::path::Path::new("logs"));
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpdateFreq {
    /// Once per epoch (Keras's `"epoch"`).
    Epoch,
    /// Also every `n` training batches, as `batch_<key>` at the global batch count.
    Batches(usize),
}

/// Writes scalar summaries as TensorBoard event files, laid out as Keras does:
///
/// - `<log_dir>/train`: `epoch_<key>` for every training log key (and `epoch_learning_rate`)
///   at step = epoch (0-based); with [`UpdateFreq::Batches`], `batch_<key>` at the global batch
///   count;
/// - `<log_dir>/validation`: `epoch_<key>` for every `val_<key>`, at step = epoch, and
///   `evaluation_<key>_vs_iterations` at step = optimizer iterations after each evaluation.
///
/// Only scalars are written (no histograms, graphs, images or profiles). Files are flushed at
/// every epoch end. Read them back with [`read_events`](crate::persist::event_file::read_events).
///
/// ```no_run
/// use keras_core::callbacks::{TensorBoard, UpdateFreq};
///
/// let tb = TensorBoard::new("logs/run1").with_update_freq(UpdateFreq::Batches(100))?;
/// # let _ = tb;
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug)]
pub struct TensorBoard {
    log_dir: PathBuf,
    update_freq: UpdateFreq,
    train: Option<EventWriter>,
    validation: Option<EventWriter>,
    global_train_batch: u64,
}

impl Default for TensorBoard {
    fn default() -> Self {
        Self::new("logs")
    }
}

impl TensorBoard {
    /// Logs under `log_dir` (Keras's default is `"logs"`).
    pub fn new(log_dir: impl AsRef<Path>) -> Self {
        Self {
            log_dir: log_dir.as_ref().to_path_buf(),
            update_freq: UpdateFreq::Epoch,
            train: None,
            validation: None,
            global_train_batch: 0,
        }
    }

    /// How often training scalars are written; `Batches(0)` is an error. Defaults to
    /// `UpdateFreq::Epoch`.
    pub fn with_update_freq(mut self, update_freq: UpdateFreq) -> Result<Self> {
        if update_freq == UpdateFreq::Batches(0) {
            return Err(Error::invalid(
                "update_freq",
                "must write every 1 or more batches",
            ));
        }
        self.update_freq = update_freq;
        Ok(self)
    }

    /// The log directory.
    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    fn writer(slot: &mut Option<EventWriter>, dir: PathBuf) -> Result<&mut EventWriter> {
        if slot.is_none() {
            *slot = Some(EventWriter::create(&dir)?);
        }
        slot.as_mut()
            .ok_or_else(|| Error::invalid("log_dir", "event writer unavailable"))
    }

    fn train_writer(&mut self) -> Result<&mut EventWriter> {
        Self::writer(&mut self.train, self.log_dir.join("train"))
    }

    fn validation_writer(&mut self) -> Result<&mut EventWriter> {
        Self::writer(&mut self.validation, self.log_dir.join("validation"))
    }

    fn flush(&mut self) -> Result<()> {
        for w in [&mut self.train, &mut self.validation]
            .into_iter()
            .flatten()
        {
            w.flush()?;
        }
        Ok(())
    }
}

impl Callback for TensorBoard {
    /// Only when writing every few batches.
    fn reads_batch_logs(&self) -> bool {
        matches!(self.update_freq, UpdateFreq::Batches(_))
    }

    fn on_train_begin<C: CallbackContext>(&mut self, _ctx: &mut C) -> Result<()> {
        self.global_train_batch = 0;
        Ok(())
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, _batch: usize, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        self.global_train_batch += 1;
        let UpdateFreq::Batches(n) = self.update_freq else {
            return Ok(());
        };
        if !self.global_train_batch.is_multiple_of(n as u64) {
            return Ok(());
        }
        let step = self.global_train_batch as i64;
        let scalars: Vec<(String, f32)> = ctx
            .logs()
            .iter()
            .map(|(k, v)| (format!("batch_{k}"), v))
            .collect();
        let w = self.train_writer()?;
        for (tag, v) in scalars {
            w.add_scalar(&tag, v, step)?;
        }
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        let step = epoch as i64;
        let logs = ctx.logs();
        let mut train: Vec<(String, f32)> = logs
            .iter()
            .filter(|(k, _)| !k.starts_with("val_"))
            .map(|(k, v)| (format!("epoch_{k}"), v))
            .collect();
        if logs.get("learning_rate").is_none() {
            train.push(("epoch_learning_rate".into(), ctx.learning_rate()));
        }
        let val: Vec<(String, f32)> = logs
            .iter()
            .filter_map(|(k, v)| {
                k.strip_prefix("val_")
                    .map(|name| (format!("epoch_{name}"), v))
            })
            .collect();
        let w = self.train_writer()?;
        for (tag, v) in train {
            w.add_scalar(&tag, v, step)?;
        }
        if !val.is_empty() {
            let w = self.validation_writer()?;
            for (tag, v) in val {
                w.add_scalar(&tag, v, step)?;
            }
        }
        self.flush()
    }

    fn on_test_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        let step = ctx.iterations() as i64;
        let scalars: Vec<(String, f32)> = ctx
            .logs()
            .iter()
            .map(|(k, v)| (format!("evaluation_{k}_vs_iterations"), v))
            .collect();
        if scalars.is_empty() {
            return Ok(());
        }
        let w = self.validation_writer()?;
        for (tag, v) in scalars {
            w.add_scalar(&tag, v, step)?;
        }
        w.flush()
    }

    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        self.flush()?;
        self.train = None;
        self.validation = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;
    use crate::persist::event_file::{event_files, read_events};

    fn scalars(dir: &Path) -> Vec<(String, i64, f32)> {
        let files = event_files(dir).unwrap();
        assert_eq!(files.len(), 1, "{files:?}");
        let events = read_events(&files[0]).unwrap();
        assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
        events[1..]
            .iter()
            .flat_map(|e| e.scalars.iter().map(move |(t, v)| (t.clone(), e.step, *v)))
            .collect()
    }

    #[test]
    fn epoch_scalars_go_to_train_and_validation_directories() {
        let dir = std::env::temp_dir().join(format!("keras-tb-epoch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut tb = TensorBoard::new(&dir);
        let mut ctx = MockContext::new();
        tb.on_train_begin(&mut ctx).unwrap();
        for epoch in 0..2 {
            let e = epoch as f32;
            ctx.set_logs(&[
                ("loss", 1.0 - e / 4.0),
                ("accuracy", 0.5 + e / 4.0),
                ("val_loss", 2.0 - e),
            ]);
            tb.on_epoch_end(epoch, &mut ctx).unwrap();
        }
        tb.on_train_end(&mut ctx).unwrap();
        assert_eq!(
            scalars(&dir.join("train")),
            [
                ("epoch_loss".to_string(), 0, 1.0),
                ("epoch_accuracy".to_string(), 0, 0.5),
                ("epoch_learning_rate".to_string(), 0, 0.1),
                ("epoch_loss".to_string(), 1, 0.75),
                ("epoch_accuracy".to_string(), 1, 0.75),
                ("epoch_learning_rate".to_string(), 1, 0.1),
            ]
        );
        assert_eq!(
            scalars(&dir.join("validation")),
            [
                ("epoch_loss".to_string(), 0, 2.0),
                ("epoch_loss".to_string(), 1, 1.0)
            ]
        );
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn batch_scalars_are_written_every_n_global_batches() {
        let dir = std::env::temp_dir().join(format!("keras-tb-batch-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let mut tb = TensorBoard::new(&dir)
            .with_update_freq(UpdateFreq::Batches(2))
            .unwrap();
        let mut ctx = MockContext::new();
        tb.on_train_begin(&mut ctx).unwrap();
        for batch in 0..5 {
            ctx.set_logs(&[("loss", batch as f32)]);
            tb.on_train_batch_end(batch, &mut ctx).unwrap();
        }
        tb.on_train_end(&mut ctx).unwrap();
        assert_eq!(
            scalars(&dir.join("train")),
            [
                ("batch_loss".to_string(), 2, 1.0),
                ("batch_loss".to_string(), 4, 3.0)
            ]
        );
        std::fs::remove_dir_all(&dir).ok();
    }
}
