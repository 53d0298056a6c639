//! `keras.callbacks.ModelCheckpoint`: save the weights (and optimizer state) during training.

use std::path::PathBuf;

use super::{Callback, CallbackContext, Mode, Monitor};
use crate::persist::{save_model_checkpoint, FileTemplate};
use crate::{Error, Result};

/// When [`ModelCheckpoint`] saves.
///
/// ```
/// use keras_core::callbacks::{ModelCheckpoint, SaveFreq};
///
/// let every_500_batches = ModelCheckpoint::new("ckpt-{epoch}-{batch}.safetensors")?
///     .with_save_freq(SaveFreq::Batches(500))?;
/// assert!(ModelCheckpoint::new("ckpt.safetensors")?.with_save_freq(SaveFreq::Batches(0)).is_err());
/// # let _ = every_500_batches;
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveFreq {
    /// At the end of every epoch (Keras's `"epoch"`).
    Epoch,
    /// Every `n` training batches (Keras's integer `save_freq`), counted across epochs.
    Batches(usize),
}

/// Saves the model's weights and moving statistics as a safetensors file (see
/// [`save_model_checkpoint`]) at the end of each
/// epoch or every N batches.
///
/// `filepath` is a [`FileTemplate`]: `{epoch:02d}` is the 1-based epoch, `{batch}` the 1-based
/// batch when saving by batch, any other field a log key (`{val_loss:.4f}`); a field that cannot
/// be filled is [`Error::BadTemplate`]. With `save_best_only`, a file is written only when the
/// monitored value improves on the best so far (starting from `initial_value_threshold` when
/// given). Without `save_weights_only` the optimizer state is saved too, as `optimizer/<entry>`
/// tensors. Every write is atomic: a failed save is an [`Error::Io`] and leaves the previous
/// file in place.
///
/// ```
/// use keras_core::callbacks::{Mode, ModelCheckpoint, SaveFreq};
///
/// let dir = std::env::temp_dir();
/// let cb = ModelCheckpoint::new(dir.join("ckpt-{epoch:02d}-{val_loss:.4f}.safetensors"))?
///     .with_monitor("val_loss")
///     .with_save_best_only(true)
///     .with_save_weights_only(true)
///     .with_mode(Mode::Min)
///     .with_save_freq(SaveFreq::Epoch)?;
/// assert!(ModelCheckpoint::new("ckpt-{epoch.safetensors").is_err());
/// # let _ = cb;
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ModelCheckpoint {
    template: FileTemplate,
    monitor: Monitor,
    verbose: u8,
    save_best_only: bool,
    save_weights_only: bool,
    save_freq: SaveFreq,
    initial_value_threshold: Option<f64>,
    best: Option<f64>,
    batches_since_save: usize,
    last_batch_seen: usize,
    current_epoch: usize,
    last_saved: Option<PathBuf>,
}

impl ModelCheckpoint {
    /// Saves to `filepath` (a template, see [`FileTemplate`]); a malformed template is
    /// [`Error::BadTemplate`].
    pub fn new(filepath: impl Into<PathBuf>) -> Result<Self> {
        let path: PathBuf = filepath.into();
        let text = path.to_str().ok_or_else(|| Error::BadTemplate {
            template: path.to_string_lossy().into_owned(),
            reason: "the path is not valid UTF-8".into(),
        })?;
        Ok(Self {
            template: FileTemplate::parse(text)?,
            monitor: Monitor::new("val_loss"),
            verbose: 0,
            save_best_only: false,
            save_weights_only: false,
            save_freq: SaveFreq::Epoch,
            initial_value_threshold: None,
            best: None,
            batches_since_save: 0,
            last_batch_seen: 0,
            current_epoch: 0,
            last_saved: None,
        })
    }

    /// The log key compared by `save_best_only`. Defaults to `"val_loss"`.
    pub fn with_monitor(mut self, key: impl Into<String>) -> Self {
        self.monitor = Monitor::new(key).with_mode(self.monitor.mode());
        self
    }

    /// 0: silent; 1: prints every save decision. Defaults to `0`.
    pub fn with_verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// Save only when the monitored value improves. Defaults to `false`.
    pub fn with_save_best_only(mut self, save_best_only: bool) -> Self {
        self.save_best_only = save_best_only;
        self
    }

    /// Save the weights alone (no optimizer state). Defaults to `false`.
    pub fn with_save_weights_only(mut self, save_weights_only: bool) -> Self {
        self.save_weights_only = save_weights_only;
        self
    }

    /// Direction of improvement for `save_best_only`. Defaults to `Mode::Auto`.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.monitor = self.monitor.with_mode(mode);
        self
    }

    /// When to save; `SaveFreq::Batches(0)` is an error. Defaults to `SaveFreq::Epoch`.
    pub fn with_save_freq(mut self, save_freq: SaveFreq) -> Result<Self> {
        if save_freq == SaveFreq::Batches(0) {
            return Err(Error::invalid(
                "save_freq",
                "must save every 1 or more batches",
            ));
        }
        self.save_freq = save_freq;
        Ok(self)
    }

    /// The value a first save must beat with `save_best_only`. Defaults to `None`.
    pub fn with_initial_value_threshold(mut self, threshold: f64) -> Self {
        self.initial_value_threshold = Some(threshold);
        self.best = Some(threshold);
        self
    }

    /// The best monitored value so far (with `save_best_only`).
    pub fn best(&self) -> Option<f64> {
        self.best
    }

    /// The file written by the last save, if any.
    pub fn last_saved(&self) -> Option<&std::path::Path> {
        self.last_saved.as_deref()
    }

    fn should_save_on_batch(&mut self, batch: usize) -> bool {
        let SaveFreq::Batches(n) = self.save_freq else {
            return false;
        };
        let added = if batch <= self.last_batch_seen {
            batch + 1
        } else {
            batch - self.last_batch_seen
        };
        self.batches_since_save += added;
        self.last_batch_seen = batch;
        if self.batches_since_save >= n {
            self.batches_since_save = 0;
            true
        } else {
            false
        }
    }

    fn save<C: CallbackContext>(
        &mut self,
        epoch: usize,
        batch: Option<usize>,
        ctx: &mut C,
    ) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        let filepath = PathBuf::from(self.template.render(epoch, batch, ctx.logs())?);
        if self.save_best_only {
            self.monitor.ensure_resolved(ctx)?;
            let best = *self.best.get_or_insert(self.monitor.worst());
            let current = self.monitor.value(ctx.logs())?;
            if !self.monitor.is_improvement(current, Some(best)) {
                if self.verbose > 0 {
                    println!(
                        "\nEpoch {}: {} did not improve from {best:.5}",
                        epoch + 1,
                        self.monitor.key()
                    );
                }
                return Ok(());
            }
            if self.verbose > 0 {
                println!(
                    "\nEpoch {}: {} improved from {best:.5} to {current:.5}, saving model to {}",
                    epoch + 1,
                    self.monitor.key(),
                    filepath.display()
                );
            }
            self.best = Some(current as f64);
        } else if self.verbose > 0 {
            println!(
                "\nEpoch {}: saving model to {}",
                epoch + 1,
                filepath.display()
            );
        }
        if filepath.is_dir() {
            return Err(Error::io(
                &filepath,
                std::io::Error::other(
                    "the checkpoint path is an existing directory; give a file path",
                ),
            ));
        }
        let state = match self.save_weights_only {
            true => None,
            false => Some(ctx.optimizer_state()?),
        };
        // The moving statistics too: weights without them are a model that never existed.
        let non_trainable = ctx.non_trainable_weights()?;
        let hyper_parameters = ctx.hyper_parameters()?;
        save_model_checkpoint(
            &filepath,
            ctx.weights()?,
            &non_trainable,
            hyper_parameters.as_ref(),
            state.as_deref(),
        )?;
        self.last_saved = Some(filepath);
        Ok(())
    }
}

impl Callback for ModelCheckpoint {
    /// Only when saving every few batches (`save_best_only` compares a logged value then).
    fn reads_batch_logs(&self) -> bool {
        self.save_freq != SaveFreq::Epoch
    }

    fn on_epoch_begin<C: CallbackContext>(&mut self, epoch: usize, _ctx: &mut C) -> Result<()> {
        self.current_epoch = epoch;
        Ok(())
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        if self.should_save_on_batch(batch) {
            self.save(self.current_epoch, Some(batch), ctx)?;
        }
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        if self.save_freq == SaveFreq::Epoch {
            self.save(epoch, None, ctx)?;
        }
        Ok(())
    }

    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({ "best": self.best }))
    }

    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        self.best = state["best"].as_f64().or(self.initial_value_threshold);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;
    use crate::persist::{load_optimizer_state, load_weights};

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("keras-mc-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn files(d: &std::path::Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn every_epoch_gets_a_file_named_from_the_template() {
        let d = dir("every");
        let mut cb =
            ModelCheckpoint::new(d.join("w-{epoch:02d}-{val_loss:.3f}.safetensors")).unwrap();
        let mut ctx = MockContext::new();
        ctx.optimizer_state = vec![("iterations".into(), vec![3.0])];
        for (epoch, v) in [0.5f32, 0.25].into_iter().enumerate() {
            ctx.set_logs(&[("loss", 1.0), ("val_loss", v)]);
            cb.on_epoch_begin(epoch, &mut ctx).unwrap();
            cb.on_epoch_end(epoch, &mut ctx).unwrap();
        }
        assert_eq!(
            files(&d),
            ["w-01-0.500.safetensors", "w-02-0.250.safetensors"]
        );
        let last = d.join("w-02-0.250.safetensors");
        assert_eq!(
            load_weights(&last, &ctx.weights).unwrap(),
            ctx.weights.values
        );
        assert_eq!(load_optimizer_state(&last).unwrap(), ctx.optimizer_state);
    }

    #[test]
    fn save_best_only_writes_on_improvement_past_the_threshold() {
        let d = dir("best");
        let path = d.join("best.safetensors");
        let mut cb = ModelCheckpoint::new(&path)
            .unwrap()
            .with_save_best_only(true)
            .with_save_weights_only(true)
            .with_initial_value_threshold(0.8);
        let mut ctx = MockContext::new();
        ctx.optimizer_state = vec![("iterations".into(), vec![3.0])];
        let mut saved_epochs = vec![];
        for (epoch, v) in [0.9f32, 0.7, 0.75, 0.6].into_iter().enumerate() {
            ctx.weights
                .values
                .iter_mut()
                .for_each(|w| *w = epoch as f32);
            ctx.set_logs(&[("val_loss", v)]);
            cb.on_epoch_end(epoch, &mut ctx).unwrap();
            if path.exists() {
                saved_epochs.push(load_weights(&path, &ctx.weights).unwrap()[0] as usize);
            }
        }
        assert_eq!(saved_epochs, [1, 1, 3]);
        assert_eq!(cb.best(), Some(0.6f32 as f64));
        assert!(load_optimizer_state(&path).unwrap().is_empty());
    }

    #[test]
    fn batch_frequency_counts_batches_across_epochs() {
        let d = dir("batches");
        let mut cb = ModelCheckpoint::new(d.join("e{epoch}-b{batch}.safetensors"))
            .unwrap()
            .with_save_freq(SaveFreq::Batches(3))
            .unwrap();
        let mut ctx = MockContext::new().with_logs(&[("loss", 1.0)]);
        for epoch in 0..2 {
            cb.on_epoch_begin(epoch, &mut ctx).unwrap();
            for batch in 0..4 {
                cb.on_train_batch_end(batch, &mut ctx).unwrap();
            }
            cb.on_epoch_end(epoch, &mut ctx).unwrap();
        }
        assert_eq!(files(&d), ["e1-b3.safetensors", "e2-b2.safetensors"]);
    }

    #[test]
    fn an_unknown_template_field_is_a_bad_template_error() {
        let d = dir("unknown");
        let mut cb = ModelCheckpoint::new(d.join("w-{val_acc:.2f}.safetensors")).unwrap();
        let mut ctx = MockContext::new().with_logs(&[("loss", 1.0)]);
        assert!(matches!(
            cb.on_epoch_end(0, &mut ctx),
            Err(Error::BadTemplate { .. })
        ));
        assert!(files(&d).is_empty());
    }
    #[test]
    fn a_parent_that_is_a_regular_file_is_an_io_error() {
        let d = dir("parent-file");
        let blocker = d.join("not-a-dir");
        std::fs::write(&blocker, b"x").unwrap();
        let mut cb = ModelCheckpoint::new(blocker.join("w.safetensors")).unwrap();
        let mut ctx = MockContext::new().with_logs(&[("loss", 1.0)]);
        assert!(matches!(
            cb.on_epoch_end(0, &mut ctx),
            Err(Error::Io { .. })
        ));
    }

    #[test]
    fn a_failed_save_leaves_the_previous_checkpoint_intact() {
        let d = dir("intact");
        let path = d.join("w.safetensors");
        let mut cb = ModelCheckpoint::new(&path).unwrap();
        let mut ctx = MockContext::new().with_logs(&[("loss", 1.0)]);
        let first = ctx.weights.values.clone();
        cb.on_epoch_end(0, &mut ctx).unwrap();
        let bytes_before = std::fs::read(&path).unwrap();
        // Inject a failure: the temporary file's name is taken by a directory.
        std::fs::create_dir(crate::persist::temp_path(&path)).unwrap();
        ctx.weights.values.iter_mut().for_each(|w| *w = -1.0);
        let err = cb.on_epoch_end(1, &mut ctx).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes_before);
        assert_eq!(load_weights(&path, &ctx.weights).unwrap(), first);
    }

    #[test]
    fn a_path_that_is_an_existing_directory_is_an_io_error() {
        let d = dir("is-dir");
        let mut cb = ModelCheckpoint::new(&d).unwrap();
        let mut ctx = MockContext::new().with_logs(&[("loss", 1.0)]);
        assert!(matches!(
            cb.on_epoch_end(0, &mut ctx),
            Err(Error::Io { .. })
        ));
    }
}
