//! `keras.callbacks.BackupAndRestore`: survive an interruption (even `kill -9`) and resume
//! bit-exactly at the next batch.

use std::path::{Path, PathBuf};

use super::{Callback, CallbackContext, SaveFreq};
use crate::persist::backup_file::{self, Backup};
use crate::{state::FlatParams, Error, Result};

const PREFIX: &str = "backup-";
const SUFFIX: &str = ".bin";
const KEEP: usize = 2;

/// Backs a `fit` run up to `backup_dir` and, when `fit` starts again after an interruption,
/// restores it so that training continues exactly where the last backup was taken.
///
/// Keras's arguments and defaults: `save_freq` ([`SaveFreq::Epoch`], or every N batches) and
/// `delete_checkpoint` (`true`: the backup is removed when `fit` ends normally). Unlike Keras,
/// which saves the weights and the epoch and restarts an interrupted epoch from its start, a
/// backup holds everything the run depends on:
///
/// - the trainable and non-trainable weights (BatchNormalization statistics) and the
///   optimizer's state (slots, iteration count, hence the position of a learning-rate
///   schedule);
/// - the epoch and the batch within it, and the data position (passes started and batches
///   into the current pass), so the same shuffle orders continue, and the Dropout masks, which
///   follow from the run's seed and the step's place;
/// - the epoch's running loss and metric states, so the epoch's logs equal an uninterrupted
///   run's (metrics that cannot export their state, see
///   [`MetricFn::state_values`](crate::metrics::MetricFn::state_values), restart empty in the
///   resumed epoch);
/// - the [`History`](super::History) so far, and every other callback's own state
///   ([`Callback::state`]: `EarlyStopping`'s `wait` and `best`, `ReduceLROnPlateau`'s
///   counters, ...), which the trainer gathers from the run's callbacks after all of them ran
///   their hooks ([`Callback::on_snapshot`]), so a backup sees their updates.
///
/// On `on_train_begin` the newest backup is restored and the trainer resumes at its next
/// batch ([`CallbackContext::request_resume`]); the other callbacks get their states back once
/// each has run its own `on_train_begin`. A backup taken with other callbacks (another tuple,
/// or callbacks that keep state where the backup's did not) is refused before anything changes.
/// Place `BackupAndRestore` after callbacks that change the optimizer in `on_epoch_begin`
/// (`LearningRateScheduler`): a resume inside an epoch puts back the optimizer state its
/// backup saw, after they ran again.
///
/// Each backup is a new file, written atomically (temporary file in the same directory,
/// fsync, rename, fsync of the directory) and checksummed (CRC-32C over the payload); the two
/// newest generations are kept. A truncated or corrupted file is rejected as
/// [`Error::Checkpoint`]: the restore falls back to the previous generation (with a warning
/// on stderr) and fails only when no generation is usable. A backup of another model (names or
/// shapes differ), optimizer, callbacks or data settings is an [`Error::Checkpoint`] and
/// nothing is changed or overwritten.
///
/// # Examples
/// ```
/// use keras_core::callbacks::{BackupAndRestore, EarlyStopping, SaveFreq};
///
/// let dir = std::env::temp_dir().join(format!("doc-backup-{}", std::process::id()));
/// let backup = BackupAndRestore::new(&dir)?
///     .with_save_freq(SaveFreq::Batches(100))?
///     .with_delete_checkpoint(true);
/// let early_stopping = EarlyStopping::new().with_monitor("loss").with_patience(3);
/// assert!(backup.backups()?.is_empty());
/// assert!(BackupAndRestore::new("").is_err());
/// // EarlyStopping's `wait` and `best` are backed up and restored with the run:
/// // trainer.fit(&data).epochs(10).callbacks((early_stopping, backup)).run()?;
/// # drop(early_stopping);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct BackupAndRestore {
    dir: PathBuf,
    save_freq: SaveFreq,
    delete_checkpoint: bool,
    next_seq: u64,
    since_save: usize,
    batches_done: usize,
    resume_batch: usize,
    /// A backup is due at the next snapshot.
    due: bool,
    reapply_optimizer: Option<Vec<(String, Vec<f32>)>>,
    restored_from: Option<(usize, usize)>,
}

impl BackupAndRestore {
    /// Backs up to `backup_dir` (created when needed); an empty path is an error.
    pub fn new(backup_dir: impl Into<PathBuf>) -> Result<Self> {
        let dir = backup_dir.into();
        if dir.as_os_str().is_empty() {
            return Err(Error::invalid(
                "backup_dir",
                "give a directory for the backups",
            ));
        }
        Ok(Self {
            dir,
            save_freq: SaveFreq::Epoch,
            delete_checkpoint: true,
            next_seq: 0,
            since_save: 0,
            batches_done: 0,
            resume_batch: 0,
            due: false,
            reapply_optimizer: None,
            restored_from: None,
        })
    }

    /// When to back up; `SaveFreq::Batches(0)` is an error. Defaults to `SaveFreq::Epoch`.
    pub fn with_save_freq(mut self, save_freq: SaveFreq) -> Result<Self> {
        if save_freq == SaveFreq::Batches(0) {
            return Err(Error::invalid(
                "save_freq",
                "must back up every 1 or more batches",
            ));
        }
        self.save_freq = save_freq;
        Ok(self)
    }

    /// Remove the backups when `fit` ends normally. Defaults to `true`.
    pub fn with_delete_checkpoint(mut self, delete_checkpoint: bool) -> Self {
        self.delete_checkpoint = delete_checkpoint;
        self
    }

    /// The backup directory.
    pub fn backup_dir(&self) -> &Path {
        &self.dir
    }

    /// Where the last `fit` resumed, as `(epoch, batch within the epoch)`; `None` when it
    /// started from scratch.
    pub fn restored_from(&self) -> Option<(usize, usize)> {
        self.restored_from
    }

    /// The backup files present, newest first (at most two after a save).
    pub fn backups(&self) -> Result<Vec<PathBuf>> {
        Ok(self.generations()?.into_iter().map(|(_, p)| p).collect())
    }

    fn generations(&self) -> Result<Vec<(u64, PathBuf)>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&self.dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| Error::io(&self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            let seq = name
                .strip_prefix(PREFIX)
                .and_then(|n| n.strip_suffix(SUFFIX))
                .and_then(|n| n.parse::<u64>().ok());
            if let Some(seq) = seq {
                out.push((seq, entry.path()));
            }
        }
        out.sort_by_key(|g| std::cmp::Reverse(g.0));
        Ok(out)
    }

    fn leftovers(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        entries
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with(PREFIX) && (n.ends_with(".tmp") || n.ends_with(".corrupt"))
                })
            })
            .collect()
    }
}

impl BackupAndRestore {
    fn save<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if !ctx.is_chief() {
            // Only process 0 of a data-parallel fit writes.
            return Ok(());
        }
        let mut point = ctx.resume_point()?.ok_or_else(|| {
            Error::invalid("BackupAndRestore", "backups are taken during fit only")
        })?;
        let callbacks = point.callbacks.take();
        let weights = ctx.weights()?;
        let weights = FlatParams {
            values: weights.values.clone(),
            grads: Vec::new(),
            vars: weights.vars.clone(),
        };
        let backup = Backup {
            weights,
            non_trainable: ctx.non_trainable_weights()?,
            optimizer: ctx.optimizer_state()?,
            point,
            callbacks,
            hyper_parameters: ctx.hyper_parameters()?,
        };
        std::fs::create_dir_all(&self.dir).map_err(|e| Error::io(&self.dir, e))?;
        let path = self
            .dir
            .join(format!("{PREFIX}{:020}{SUFFIX}", self.next_seq));
        let tmp = self
            .dir
            .join(format!("{PREFIX}{:020}{SUFFIX}.tmp", self.next_seq));
        let bytes = backup_file::encode(&path, &backup)?;
        backup_file::write_atomically(&path, &tmp, &bytes)?;
        self.next_seq += 1;
        for (_, old) in self.generations()?.into_iter().skip(KEEP) {
            std::fs::remove_file(&old).map_err(|e| Error::io(&old, e))?;
        }
        Ok(())
    }

    /// Reads the newest usable generation; corrupt ones are set aside (renamed `*.corrupt`).
    fn newest_usable(&mut self) -> Result<Option<Backup>> {
        for tmp in self
            .leftovers()
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "tmp"))
        {
            let _ = std::fs::remove_file(tmp);
        }
        let generations = self.generations()?;
        if let Some((seq, _)) = generations.first() {
            self.next_seq = seq + 1;
        }
        let mut rejected = Vec::new();
        for (_, path) in &generations {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            match backup_file::decode(path, &bytes) {
                Ok(backup) => {
                    for (bad, err) in &rejected {
                        eprintln!(
                            "BackupAndRestore: skipped {err}; restoring {}",
                            path.display()
                        );
                        let mut aside = PathBuf::from(bad);
                        aside.as_mut_os_string().push(".corrupt");
                        let _ = std::fs::rename(bad, aside);
                    }
                    return Ok(Some(backup));
                }
                Err(e @ Error::Checkpoint { .. }) => rejected.push((path.clone(), e)),
                Err(e) => return Err(e),
            }
        }
        if rejected.is_empty() {
            return Ok(None);
        }
        let reasons: Vec<String> = rejected.iter().map(|(_, e)| e.to_string()).collect();
        Err(Error::Checkpoint {
            path: self.dir.clone(),
            reason: format!("no usable backup: {}", reasons.join("; ")),
        })
    }

    fn restore<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.restored_from = None;
        let Some(backup) = self.newest_usable()? else {
            return Ok(());
        };
        let refuse = |reason: String| Error::Checkpoint {
            path: self.dir.clone(),
            reason,
        };
        same_layout("weight", &backup.weights, ctx.weights()?).map_err(refuse)?;
        same_layout(
            "non-trainable weight",
            &backup.non_trainable,
            &ctx.non_trainable_weights()?,
        )
        .map_err(refuse)?;
        // After the layout, so that another architecture is named as such.
        if let (Some(saved), Some(model)) = (&backup.hyper_parameters, ctx.hyper_parameters()?) {
            model.check_matches(saved).map_err(refuse)?;
        }
        if let Some(now) = ctx.resume_point()? {
            backup
                .point
                .signature
                .check_matches(&now.signature)
                .map_err(|e| refuse(e.to_string()))?;
            same_callbacks(backup.callbacks.as_ref(), now.callbacks.as_ref()).map_err(refuse)?;
        }
        ctx.load_optimizer_state(&backup.optimizer)
            .map_err(|e| refuse(format!("the optimizer state does not fit: {e}")))?;
        ctx.set_weights(&backup.weights.values)?;
        ctx.set_non_trainable_weights(&backup.non_trainable.values)?;
        let mut point = backup.point;
        // The trainer hands them to the callbacks once each has started.
        point.callbacks = backup.callbacks;
        self.restored_from = Some((point.epoch, point.batch));
        self.resume_batch = point.batch;
        self.reapply_optimizer = point.is_mid_epoch().then_some(backup.optimizer);
        ctx.request_resume(point)
    }

    fn delete_backups(&self) -> Result<()> {
        for path in self.backups()?.into_iter().chain(self.leftovers()) {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
        // Only removed when nothing else lives there.
        let _ = std::fs::remove_dir(&self.dir);
        Ok(())
    }
}

/// An error naming the first variable whose name or shape differs between the two layouts.
fn same_layout(
    what: &str,
    saved: &FlatParams,
    model: &FlatParams,
) -> std::result::Result<(), String> {
    for (i, var) in model.vars.iter().enumerate() {
        match saved.vars.get(i) {
            Some(s) if s.name == var.name && s.shape == var.shape => {}
            Some(s) => {
                return Err(format!(
                    "the backup is of another model: {what} {i} is `{}` {:?} in the backup but `{}` {:?} in the model",
                    s.name, s.shape, var.name, var.shape
                ))
            }
            None => {
                return Err(format!(
                    "the backup is of another model: {what} `{}` of the model is not in the backup",
                    var.name
                ))
            }
        }
    }
    match saved.vars.get(model.vars.len()) {
        Some(extra) => Err(format!(
            "the backup is of another model: {what} `{}` of the backup is not in the model",
            extra.name
        )),
        None => Ok(()),
    }
}

/// Whether a backup's callback states fit the callbacks of this run: each callback that keeps
/// state stands at the same place of the same tuples in both (stateless callbacks, which load
/// nothing, may differ).
fn same_callbacks(
    saved: Option<&serde_json::Value>,
    now: Option<&serde_json::Value>,
) -> std::result::Result<(), String> {
    use serde_json::Value;
    fn stateless(v: &Value) -> bool {
        match v {
            Value::Null => true,
            Value::Array(members) => members.iter().all(stateless),
            _ => false,
        }
    }
    fn same(saved: &Value, now: &Value) -> bool {
        if stateless(saved) || stateless(now) {
            return stateless(saved) && stateless(now);
        }
        match (saved, now) {
            (Value::Array(a), Value::Array(b)) => (0..a.len().max(b.len())).all(|i| {
                same(
                    a.get(i).unwrap_or(&Value::Null),
                    b.get(i).unwrap_or(&Value::Null),
                )
            }),
            (Value::Array(_), _) | (_, Value::Array(_)) => false,
            _ => true,
        }
    }
    let null = Value::Null;
    match same(saved.unwrap_or(&null), now.unwrap_or(&null)) {
        true => Ok(()),
        false => Err(
            "the backup was taken with other callbacks (another tuple, or callbacks that keep \
             state in other places); fit with the same callbacks, or remove the backup"
                .into(),
        ),
    }
}

impl Callback for BackupAndRestore {
    /// A backup reads the running states through the resume point, which comes from the device
    /// copy when that is ahead: no per-batch logs needed.
    fn reads_batch_logs(&self) -> bool {
        false
    }

    fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.since_save = 0;
        self.resume_batch = 0;
        self.due = false;
        self.reapply_optimizer = None;
        self.restore(ctx)
    }

    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if self.delete_checkpoint && ctx.is_chief() {
            self.delete_backups()?;
        }
        Ok(())
    }

    fn on_epoch_begin<C: CallbackContext>(&mut self, _epoch: usize, ctx: &mut C) -> Result<()> {
        self.batches_done = std::mem::take(&mut self.resume_batch);
        if let Some(state) = self.reapply_optimizer.take() {
            // The backup was taken after this epoch's on_epoch_begin: undo what the hooks
            // before this one just did to the optimizer (a LearningRateScheduler's step) a
            // second time.
            ctx.load_optimizer_state(&state)?;
        }
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, _epoch: usize, _ctx: &mut C) -> Result<()> {
        if self.save_freq == SaveFreq::Epoch {
            self.due = true;
        }
        Ok(())
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, batch: usize, _ctx: &mut C) -> Result<()> {
        if let SaveFreq::Batches(n) = self.save_freq {
            let done = batch + 1;
            self.since_save += done.saturating_sub(self.batches_done);
            self.batches_done = done;
            if self.since_save >= n {
                self.since_save = 0;
                self.due = true;
            }
        }
        Ok(())
    }

    fn wants_snapshot(&self) -> bool {
        self.due
    }

    /// Writes the backup that came due in this batch's or epoch's end, once every callback
    /// has run that hook.
    fn on_snapshot<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if std::mem::take(&mut self.due) {
            self.save(ctx)?;
        }
        Ok(())
    }
}
