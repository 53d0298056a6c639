//! Metrics: Keras's stateful `update_state` / `result` / `reset_state` metrics, on host `f32`.
//!
//! Like losses, a metric has a runtime half ([`MetricFn`], on flat `f32` slices) and a typed half
//! ([`Metric<K>`]) that binds it to a model output width `K` and a label layout, so that
//! `"accuracy"`-style resolution and class-count checks happen at build time. Metrics compose as
//! tuples (or a `Vec` of one type) through [`MetricSet`], with no dynamic dispatch.
//!
//! Every metric reproduces Keras 3's numbers (the golden test `tests/golden_metrics.rs` runs all
//! cases of Keras's own output): mean-style metrics keep Keras's `total / count` state
//! ([`MeanState`]), confusion-matrix metrics keep per-threshold counts (with Keras's bucketed
//! update for evenly spaced thresholds), and the IoU family keeps Keras's integer confusion
//! matrix. Constructors that take arguments validate them and return
//! [`Error::InvalidArgument`](crate::Error::InvalidArgument); class counts and `k` that are const
//! generics are checked against the output width at build time ([`Metric::CHECK`]).
//!
//! Each metric Keras has a class for gives its Keras form ([`MetricFn::keras_config`]: class,
//! name and arguments, as Keras's `compile_config` lists it), and [`KerasMetrics`] gathers a
//! tuple's, so that a `.keras` file names the compiled metrics.
//!
//! | family | types |
//! |---|---|
//! | reductions | [`Mean`], [`Sum`] |
//! | accuracy | [`Accuracy`], [`BinaryAccuracy`], [`CategoricalAccuracy`], [`SparseCategoricalAccuracy`], [`TopKCategoricalAccuracy`], [`SparseTopKCategoricalAccuracy`], [`ResolvedAccuracy`] |
//! | probabilistic | [`BinaryCrossentropy`], [`CategoricalCrossentropy`], [`SparseCategoricalCrossentropy`], [`KLDivergence`], [`Poisson`] |
//! | regression | [`MeanSquaredError`], [`RootMeanSquaredError`], [`MeanAbsoluteError`], [`MeanAbsolutePercentageError`], [`MeanSquaredLogarithmicError`], [`CosineSimilarity`], [`LogCoshError`], [`R2Score`], [`PearsonCorrelation`], [`ConcordanceCorrelation`] |
//! | hinge | [`Hinge`], [`SquaredHinge`], [`CategoricalHinge`] |
//! | confusion matrix | [`TruePositives`], [`FalsePositives`], [`TrueNegatives`], [`FalseNegatives`], [`Precision`], [`Recall`], [`Auc`], [`PrecisionAtRecall`], [`RecallAtPrecision`], [`SensitivityAtSpecificity`], [`SpecificityAtSensitivity`] |
//! | F-scores | [`F1Score`], [`FBetaScore`] |
//! | IoU | [`IoU`], [`BinaryIoU`], [`MeanIoU`], [`OneHotIoU`], [`OneHotMeanIoU`] |

mod accuracy;
mod auc;
mod auc_options;
mod binary_accuracy;
mod binary_crossentropy;
mod binary_iou;
mod categorical_accuracy;
mod categorical_crossentropy;
mod categorical_hinge;
mod concordance_correlation;
mod condition_counts;
mod confusion_counts;
mod constrained_rate;
mod cosine_similarity;
mod crossentropy_options;
mod f1_score;
mod f_beta_score;
mod f_score_average;
mod hinge;
mod inputs;
mod iou;
mod iou_base;
mod iou_matrix;
mod keras_config;
mod kl_divergence;
mod log_cosh_error;
mod mean;
mod mean_absolute_error;
mod mean_absolute_percentage_error;
mod mean_iou;
mod mean_metric_macro;
mod mean_metric_wrapper;
mod mean_squared_error;
mod mean_squared_logarithmic_error;
mod mean_state;
mod merge_across;
mod metric_list;
mod metric_set;
mod named;
mod one_hot_iou;
mod one_hot_mean_iou;
mod packed_state;
mod pearson_correlation;
mod poisson;
mod precision;
mod precision_at_recall;
mod r2_score;
mod rate_at_thresholds;
mod recall;
mod recall_at_precision;
mod resident_means;
mod resolved_accuracy;
mod root_mean_squared_error;
mod row_math;
mod sensitivity_at_specificity;
mod sparse_categorical_accuracy;
mod sparse_categorical_crossentropy;
mod sparse_top_k_categorical_accuracy;
mod specificity_at_sensitivity;
mod squared_hinge;
mod sum;
mod thresholds;
mod top_k_categorical_accuracy;

pub use crate::state::MeanState;
pub use accuracy::Accuracy;
pub use auc::Auc;
pub use auc_options::{AucCurve, AucSummation};
pub use binary_accuracy::BinaryAccuracy;
pub use binary_crossentropy::BinaryCrossentropy;
pub use binary_iou::BinaryIoU;
pub use categorical_accuracy::CategoricalAccuracy;
pub use categorical_crossentropy::CategoricalCrossentropy;
pub use categorical_hinge::CategoricalHinge;
pub use concordance_correlation::ConcordanceCorrelation;
pub use condition_counts::{FalseNegatives, FalsePositives, TrueNegatives, TruePositives};
pub use cosine_similarity::CosineSimilarity;
pub use f1_score::F1Score;
pub use f_beta_score::FBetaScore;
pub use f_score_average::FScoreAverage;
pub use hinge::Hinge;
pub use iou::IoU;
pub use keras_config::KerasMetrics;
pub use kl_divergence::KLDivergence;
pub use log_cosh_error::LogCoshError;
pub use mean::Mean;
pub use mean_absolute_error::MeanAbsoluteError;
pub use mean_absolute_percentage_error::MeanAbsolutePercentageError;
pub use mean_iou::MeanIoU;
pub use mean_metric_wrapper::MeanMetricWrapper;
pub use mean_squared_error::MeanSquaredError;
pub use mean_squared_logarithmic_error::MeanSquaredLogarithmicError;
pub use merge_across::MergeAcross;
pub use metric_set::{LossLabels, MetricSet};
pub use named::Named;
pub use one_hot_iou::OneHotIoU;
pub use one_hot_mean_iou::OneHotMeanIoU;
pub use pearson_correlation::PearsonCorrelation;
pub use poisson::Poisson;
pub use precision::Precision;
pub use precision_at_recall::PrecisionAtRecall;
pub use r2_score::{R2Aggregation, R2Score};
pub use recall::Recall;
pub use recall_at_precision::RecallAtPrecision;
pub(crate) use resident_means::ResidentMeans;
pub use resolved_accuracy::ResolvedAccuracy;
pub use root_mean_squared_error::RootMeanSquaredError;
pub use sensitivity_at_specificity::SensitivityAtSpecificity;
pub use sparse_categorical_accuracy::SparseCategoricalAccuracy;
pub use sparse_categorical_crossentropy::SparseCategoricalCrossentropy;
pub use sparse_top_k_categorical_accuracy::SparseTopKCategoricalAccuracy;
pub use specificity_at_sensitivity::SpecificityAtSensitivity;
pub use squared_hinge::SquaredHinge;
pub use sum::Sum;
pub use top_k_categorical_accuracy::TopKCategoricalAccuracy;

pub use crate::kernels::{ColumnForm, ConfusionForm, IouForm, RowMetric};

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
///
/// Some metrics have a vector result (one value per threshold or per class);
/// [`result_values`](MetricFn::result_values) returns it whole and [`result`](MetricFn::result)
/// the scalar that is logged: the value at the first threshold for per-threshold metrics (the
/// only one with Keras's default single threshold), the mean for per-class ones.
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

    /// The accumulated state as flat values, so that it can be saved and restored (a
    /// `BackupAndRestore` resume in the middle of an epoch needs it to continue the epoch's
    /// running values). `None` (the default) when the metric cannot export its state; metrics
    /// whose state is a running mean ([`MeanState`]) return `[total, count]`.
    fn state_values(&self) -> Option<Vec<f32>> {
        None
    }

    /// Restores a state returned by [`state_values`](MetricFn::state_values). Defaults to an
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) for metrics that export none.
    fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
        let _ = values;
        Err(crate::Error::invalid(
            "state",
            format!("metric `{}` cannot restore a saved state", self.name()),
        ))
    }

    /// Folds another partial state of the same metric into this one (for evaluation split across
    /// workers): the merged result equals the result of one metric that saw both streams. Fails
    /// when the two states cannot be combined (different thresholds or class counts). Optional:
    /// the default is an [`Error::InvalidArgument`](crate::Error::InvalidArgument) saying the
    /// metric cannot merge.
    fn merge_state(&mut self, other: &Self) -> Result<()>
    where
        Self: Sized,
    {
        let _ = other;
        Err(crate::Error::invalid(
            "merge_state",
            format!("metric `{}` cannot merge partial states", self.name()),
        ))
    }

    /// The metric's rows in a form the device kernels compute ([`RowMetric`]), for metrics
    /// that are Keras's `MeanMetricWrapper` around it: their state is `[total, count]`
    /// ([`state_values`](MetricFn::state_values)) and a batch adds the weighted rows and the
    /// weights, so the trainer can keep that state where the model's output is and read it only
    /// when a log needs it (see
    /// [`Trainer::set_metrics_on_device`](crate::Trainer::set_metrics_on_device)). `None` (the
    /// default) for every other metric.
    fn row_form(&self) -> Option<RowMetric> {
        None
    }

    /// The metric's confusion-matrix counts in a form the device kernels compute
    /// ([`ConfusionForm`]), for the metrics whose state is Keras's true/false positive/negative
    /// counts per threshold (the condition counts, `Precision`, `Recall`, `AUC`, the rate-at
    /// metrics): the trainer can then keep that state where the model's output
    /// is and read it only when a log needs it, as for a [`row_form`](MetricFn::row_form).
    /// `None` (the default) for every other metric.
    fn confusion_form(&self) -> Option<ConfusionForm<'_>> {
        None
    }

    /// The metric's per-column sums in a form the device kernels compute ([`ColumnForm`]), for
    /// `FBetaScore`, `F1Score` and `R2Score` once their width is known
    /// ([`prepare`](MetricFn::prepare)). `None` (the default) for every other metric.
    fn column_form(&self) -> Option<ColumnForm> {
        None
    }

    /// The metric's confusion matrix in a form the device kernels compute ([`IouForm`]), for
    /// Keras's IoU metrics (`IoU`, `MeanIoU`, `OneHotIoU`, `OneHotMeanIoU`, `BinaryIoU`) up to
    /// [`IouForm::MAX_CLASSES`] classes. `None` (the default) for every other metric.
    fn iou_form(&self) -> Option<IouForm> {
        None
    }

    /// Tells the metric the width of the model output it will see, before its first batch, so
    /// that a state sized at the first batch (the F-scores' classes, R²'s columns, a
    /// multi-label AUC's labels) is sized now: the trainer calls it before keeping the state on
    /// the device. A width other than the one the state has is the error the next update would
    /// give. A no-op by default.
    fn prepare(&mut self, cols: usize) -> Result<()> {
        let _ = cols;
        Ok(())
    }

    /// Whether the trainer can keep this metric's state on the device: it has a
    /// [`row_form`](MetricFn::row_form), a [`confusion_form`](MetricFn::confusion_form), a
    /// [`column_form`](MetricFn::column_form) or an [`iou_form`](MetricFn::iou_form).
    fn has_device_form(&self) -> bool {
        self.row_form().is_some()
            || self.confusion_form().is_some()
            || self.column_form().is_some()
            || self.iou_form().is_some()
    }

    /// The metric as Keras's `compile_config` lists it in a `.keras` file, so that
    /// `keras.saving.load_model` compiles the model with it again: the string `"accuracy"`
    /// ([`ResolvedAccuracy`]), or a Keras metric object (`{"module": "keras.metrics",
    /// "class_name": "AUC", "config": {"name": "auc", "dtype": "float32", "num_thresholds":
    /// 200, ...}, ...}`) with the logged name and the metric's arguments. `None` (the default)
    /// for a metric Keras cannot rebuild (a [`MeanMetricWrapper`] around a Rust function):
    /// [`KerasMetrics`] leaves it out.
    fn keras_config(&self) -> Option<serde_json::Value> {
        None
    }
}

/// A metric bound to a model output of width `K` and a label layout.
pub trait Metric<const K: usize>: MetricFn {
    /// The labels this metric takes for a `K`-wide output.
    type Target: Target;

    /// A compile-time check that the metric fits a `K`-wide output, evaluated by
    /// [`MetricSet::update_all`]: metrics with a const-generic `k` or class count override it
    /// with an `assert!`, so a mismatch fails `cargo build` (it is a post-monomorphization
    /// error, so `cargo check` does not report it). `()` by default.
    const CHECK: () = ();
}
