//! [`ResumePoint`]: where a `fit` run stands, so that a later `fit` continues it exactly.

use super::{DataPosition, History, MeanState};
use crate::{Error, Result};

/// The data settings a [`ResumePoint`] was taken under. The sample order of a pass is a pure
/// function of these, so a resume into a `fit` with other settings would train on other
/// batches: the trainer refuses it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataSignature {
    /// Training samples (after `validation_split`).
    pub samples: usize,
    /// `batch_size`.
    pub batch_size: usize,
    /// `shuffle`, as its `Debug` name (`"Full"`, `"Batch"`, `"None"`).
    pub shuffle: String,
    /// `seed`.
    pub seed: u64,
    /// `steps_per_epoch`.
    pub steps_per_epoch: Option<usize>,
    /// `steps_per_execution`.
    pub steps_per_execution: usize,
}

impl DataSignature {
    /// An error naming the first setting that differs from `current`, if any.
    pub fn check_matches(&self, current: &DataSignature) -> Result<()> {
        let differs = |what: &str, saved: String, now: String| {
            Err(Error::invalid(
                "resume",
                format!(
                    "the run to resume used {what} = {saved}, this fit uses {now}; fit with the \
                     same data settings, or remove the backup to start over"
                ),
            ))
        };
        if self.samples != current.samples {
            return differs(
                "training samples",
                self.samples.to_string(),
                current.samples.to_string(),
            );
        }
        if self.batch_size != current.batch_size {
            return differs(
                "batch_size",
                self.batch_size.to_string(),
                current.batch_size.to_string(),
            );
        }
        if self.shuffle != current.shuffle {
            return differs("shuffle", self.shuffle.clone(), current.shuffle.clone());
        }
        if self.seed != current.seed {
            return differs("seed", self.seed.to_string(), current.seed.to_string());
        }
        if self.steps_per_epoch != current.steps_per_epoch {
            return differs(
                "steps_per_epoch",
                format!("{:?}", self.steps_per_epoch),
                format!("{:?}", current.steps_per_epoch),
            );
        }
        if self.steps_per_execution != current.steps_per_execution {
            return differs(
                "steps_per_execution",
                self.steps_per_execution.to_string(),
                current.steps_per_execution.to_string(),
            );
        }
        Ok(())
    }
}

/// Everything `fit` needs, besides the weights and the optimizer state, to continue a run
/// exactly where it stopped: the next epoch and batch, the position in the data, the epoch's
/// running loss and metric accumulators, the [`History`] so far and the run's callbacks' own
/// states.
///
/// A callback reads the current one with
/// [`CallbackContext::resume_point`](crate::callbacks::CallbackContext::resume_point) and hands
/// a saved one back with
/// [`CallbackContext::request_resume`](crate::callbacks::CallbackContext::request_resume) in
/// `on_train_begin`, as [`BackupAndRestore`](crate::callbacks::BackupAndRestore) does.
///
/// # Examples
/// ```
/// use keras_core::trainer::ResumePoint;
/// let start = ResumePoint::default();
/// assert_eq!((start.epoch, start.batch), (0, 0));
/// assert!(!start.is_mid_epoch());
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ResumePoint {
    /// The epoch to run next (0-based).
    pub epoch: usize,
    /// Batches of `epoch` already trained (0: the epoch has not started).
    pub batch: usize,
    /// Where the epoch iterator stands in the data.
    pub data: DataPosition,
    /// The data settings of the run.
    pub signature: DataSignature,
    /// The epoch's running loss (`total`, `count`).
    pub loss_tracker: MeanState,
    /// The compiled metrics' states ([`MetricSet::state_values_all`](crate::metrics::MetricSet::state_values_all)).
    pub metric_states: Vec<Option<Vec<f32>>>,
    /// The weighted metrics' states.
    pub weighted_metric_states: Vec<Option<Vec<f32>>>,
    /// The epochs logged so far.
    pub history: History,
    /// The run's callbacks' own states ([`Callback::state`](crate::callbacks::Callback::state)
    /// of the whole tuple, one entry per callback): gathered by the trainer in `on_train_begin`
    /// and for [`Callback::on_snapshot`](crate::callbacks::Callback::on_snapshot), `None` in
    /// the other hooks. A requested resume that carries them loads them into the callbacks
    /// once every `on_train_begin` has run.
    pub callbacks: Option<serde_json::Value>,
}

impl ResumePoint {
    /// Whether the point lies inside an epoch (some of its batches already ran).
    pub fn is_mid_epoch(&self) -> bool {
        self.batch > 0
    }
}
