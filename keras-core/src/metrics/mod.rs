//! Metrics: Keras's stateful `update_state` / `result` / `reset_state` metrics, on host `f32`.
//!
//! Like losses, a metric has a runtime half ([`MetricFn`], on flat `f32` slices) and a typed half
//! ([`Metric<K>`]) that binds it to a model output width `K` and a label layout, so that
//! `"accuracy"`-style resolution and class-count checks happen at build time. Metrics compose as
//! tuples through [`MetricSet`], with no dynamic dispatch.

mod resolved_accuracy;
mod mean_absolute_error;
mod mean_state;
mod metric_set;
mod sparse_categorical_accuracy;

pub use resolved_accuracy::ResolvedAccuracy;
pub use mean_absolute_error::MeanAbsoluteError;
pub use mean_state::MeanState;
pub use metric_set::MetricSet;
pub use sparse_categorical_accuracy::SparseCategoricalAccuracy;

use crate::{target::Target, Result};

/// Whether larger or smaller values of a metric are better (Keras's `_direction`), which
/// `EarlyStopping(mode="auto")` needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Larger is better (accuracy, AUC, ...).
    Up,
    /// Smaller is better (errors, crossentropies, ...).
    Down,
}

/// The runtime half of a metric: stateful updates on host `f32` slices.
pub trait MetricFn {
    /// The name reported in logs (`"accuracy"`, `"mae"`, ...).
    fn name(&self) -> &str;

    /// Whether larger or smaller is better.
    fn direction(&self) -> Direction;

    /// Accumulates one batch. `y_pred` has rows of `cols` values; `y_true` has one class id per
    /// row for sparse metrics, else as many values as `y_pred`. `sample_weight` has one weight
    /// per row when given.
    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()>;

    /// The current scalar result (for vector-valued metrics, the value logged).
    fn result(&self) -> f32;

    /// The full result: one value for scalar metrics, several for per-threshold or per-class
    /// metrics.
    fn result_values(&self) -> Vec<f32> {
        vec![self.result()]
    }

    /// Clears the accumulated state.
    fn reset_state(&mut self);

    /// Folds another partial state of the same metric into this one (for evaluation split across
    /// workers): the merged result equals the result of one metric that saw both streams.
    fn merge_state(&mut self, other: &Self)
    where
        Self: Sized;
}

/// A metric bound to a model output of width `K` and a label layout.
pub trait Metric<const K: usize>: MetricFn {
    /// The labels this metric takes for a `K`-wide output.
    type Target: Target;
}
