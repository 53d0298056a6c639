//! `fit` arguments that are plain values (the data, validation data and callbacks are typed
//! and set on the [`Fit`](super::Fit) builder).

use crate::data::Shuffle;

/// When `fit` runs validation (Keras's `validation_freq`).
///
/// Defaults to every epoch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ValidationFreq {
    /// After every `n`-th epoch (1-based: `(epoch + 1) % n == 0`).
    Every(usize),
    /// After the listed epochs (1-based).
    Epochs(Vec<usize>),
}

impl Default for ValidationFreq {
    fn default() -> Self {
        ValidationFreq::Every(1)
    }
}

impl ValidationFreq {
    /// Whether validation runs after 0-based epoch `epoch` (Keras's `_should_eval`).
    pub fn should_eval(&self, epoch: usize) -> bool {
        match self {
            ValidationFreq::Every(n) => *n > 0 && (epoch + 1).is_multiple_of(*n),
            ValidationFreq::Epochs(list) => list.contains(&(epoch + 1)),
        }
    }
}

/// The value arguments of `fit`, with Keras's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    /// Final epoch index (the loop is `initial_epoch..epochs`). Defaults to `1`.
    pub epochs: usize,
    /// First epoch index, to resume. Defaults to `0`.
    pub initial_epoch: usize,
    /// Samples per batch. Defaults to `32`.
    pub batch_size: usize,
    /// Sample order. Defaults to [`Shuffle::Full`].
    pub shuffle: Shuffle,
    /// Seed of the shuffles. Defaults to `0`.
    pub seed: u64,
    /// Fraction of the data (its tail, before shuffling) held out for validation. Defaults to
    /// `0.0` (none).
    pub validation_split: f64,
    /// When to validate. Defaults to every epoch.
    pub validation_freq: ValidationFreq,
    /// Validation batch size. Defaults to `batch_size`.
    pub validation_batch_size: Option<usize>,
    /// Maximum validation steps. Defaults to a full pass.
    pub validation_steps: Option<usize>,
    /// Steps per epoch (the pass continues across epochs). Defaults to one full pass.
    pub steps_per_epoch: Option<usize>,
    /// Batches per group of batch callbacks. Defaults to `1`.
    pub steps_per_execution: usize,
    /// Per-class weights (index = class id), applied to the loss. Defaults to none.
    pub class_weight: Option<Vec<f32>>,
    /// 0 silent, 1 progress bar, 2 one line per epoch. Defaults to `1`.
    pub verbose: u8,
    /// Batches prepared ahead on a background thread (0 disables prefetching). Defaults to `2`.
    pub prefetch: usize,
    /// Rejects NaN and infinite features and labels as the batches are assembled, with
    /// [`Error::NonFiniteInput`](crate::Error::NonFiniteInput) naming the sample, before they
    /// reach the model. Defaults to `true`.
    pub check_finite: bool,
    /// Skips the update of a step whose gradients are not all finite (the model and optimizer
    /// stay as they were; the logged loss still shows the NaN). Always on for an optimizer
    /// with a loss scale. Defaults to `false` (Keras applies such a step).
    pub skip_non_finite: bool,
}

impl Default for FitConfig {
    fn default() -> Self {
        Self {
            epochs: 1,
            initial_epoch: 0,
            batch_size: 32,
            shuffle: Shuffle::Full,
            seed: 0,
            validation_split: 0.0,
            validation_freq: ValidationFreq::default(),
            validation_batch_size: None,
            validation_steps: None,
            steps_per_epoch: None,
            steps_per_execution: 1,
            class_weight: None,
            verbose: 1,
            prefetch: 2,
            check_finite: true,
            skip_non_finite: false,
        }
    }
}
