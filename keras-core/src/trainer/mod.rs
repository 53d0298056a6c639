//! The trainer: Keras's `compile`, `fit`, `evaluate`, `predict` and the `*_on_batch` methods.
//!
//! [`Trainer::compile`] is Keras's CompileUtils: it takes an optimizer, a loss and a tuple of
//! metrics, whose types are checked against the model's output and the labels at build time.
//! `fit` holds the only training loop; callbacks hook into it. A callback can continue an
//! interrupted run exactly where it stopped: the loop reports its [`ResumePoint`] (epoch, batch,
//! data position, running metrics, history) to every `fit` hook and accepts one back in
//! `on_train_begin`, as [`BackupAndRestore`](crate::callbacks::BackupAndRestore) does.

mod bounds;
mod cache_budget;
mod config;
pub(crate) mod context;
mod distributed;
mod evaluate;
mod fit;
pub(crate) mod fit_view;
mod keras_files;
mod predict;
mod step_profiler;
mod summary;
#[allow(clippy::module_inception)]
mod trainer;
mod weights_file;

pub use crate::state::{DataSignature, ResumePoint};
pub use bounds::{InferenceModel, LabelsFor, Output, OutputShape, TrainModel};
pub use cache_budget::{CHECK_INTERVAL, DEFAULT_CACHE_LIMIT};
pub use config::{FitConfig, ValidationFreq};
pub use evaluate::Evaluate;
pub use fit::{Fit, MAX_PREFETCH, PREFETCH_MIN_BATCH_VALUES};
pub use keras_files::KerasLoad;
pub use predict::Predict;
pub use trainer::Trainer;
