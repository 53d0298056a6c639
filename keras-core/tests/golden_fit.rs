//! Every case of `tests/fixtures/keras/fit.json`: end-to-end `fit` / `evaluate` / `predict`
//! against Keras 3.15.1 (histories, running batch losses, weights per epoch, final weights).
//! Each case is compiled as its config says: the optimizer (any of Keras's twelve, its learning
//! rate a number or a schedule), the loss (`config.loss`, any Keras loss class or string) and
//! the metrics (`config.metrics`, the strings Keras's `compile` takes, logged under those
//! names); a name the harness does not know fails the case, naming it. Each case trains three
//! times on [`TestDevice`](common::TestDevice), each against Keras's numbers: with the loss and
//! metrics on the host; with the loss, the loss tracker and the metrics on the device
//! (`Trainer::set_loss_on_device`, `Trainer::set_metrics_on_device`) and read after every
//! batch; and the same read once per epoch (no callback reads batch logs).

mod common;

use std::marker::PhantomData;

use common::any_optimizer::AnyOptimizer;
use common::keras_config::Cfg;
use common::{compare, load, load_cases, test_device, Case, Report, TestDevice, DEVICE_TOL_FACTOR};
use keras_core::callbacks::{Callback, CallbackContext};
use keras_core::data::{ArrayDataset, SampleShape, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Conv2D, Dense, Flatten, MaxPool2D, ReLU};
use keras_core::losses::{self, DeviceLoss, Loss, LossAxis, LossFn, Reduction};
use keras_core::metrics::{
    self, ColumnForm, ConfusionForm, Direction, Metric, MetricFn, MetricSet, ResolvedAccuracy,
    RowMetric,
};
use keras_core::optimizers::Optimizer;
use keras_core::target::{Dense as DenseTarget, Sparse, Target};
use keras_core::trainer::TrainModel;
use keras_core::{Result, Sequential, Trainer};
use serde_json::Value;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    logits: Dense<8, 3, keras_core::layers::Linear, E, D>,
}

/// `fit_conv.json`'s convnet on 12x12x1 images (`make_fit_conv.py`).
#[derive(Sequential)]
struct ConvNet<E: Dtype, D: Device<E>> {
    conv_1: Conv2D<1, 4, 3, 10, 10, 1, 0, ReLU, E, D>,
    pool_1: MaxPool2D<2, 5, 5>,
    conv_2: Conv2D<4, 8, 3, 3, 3, 1, 0, ReLU, E, D>,
    pool_2: MaxPool2D<2, 1, 1>,
    flatten: Flatten<8>,
    logits: Dense<8, 3, keras_core::layers::Linear, E, D>,
}

#[derive(Sequential)]
struct Regressor<E: Dtype, D: Device<E>> {
    out: Dense<3, 1, keras_core::layers::Linear, E, D>,
}

/// Where a case's step computes the loss and the metrics, and when the host reads them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Where {
    /// Loss and metrics on the host.
    Host,
    /// Loss, loss tracker and row-form metrics on the device, read after every batch.
    Device,
    /// As `Device`, read once per epoch: the recorder reads no batch logs.
    DeviceEpochReads,
}

/// Records what Keras's test recorded: running loss per batch (when it reads batch logs),
/// weights per epoch.
struct Recorder {
    batch_logs: bool,
    batch_loss: Vec<f32>,
    epoch_weights: Vec<Vec<f32>>,
}

impl Callback for Recorder {
    fn reads_batch_logs(&self) -> bool {
        self.batch_logs
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, _: usize, ctx: &mut C) -> Result<()> {
        self.batch_loss
            .push(ctx.logs().get("loss").unwrap_or(f32::NAN));
        Ok(())
    }
    fn on_epoch_end<C: CallbackContext>(&mut self, _: usize, ctx: &mut C) -> Result<()> {
        self.epoch_weights.push(ctx.weights()?.values.clone());
        Ok(())
    }
}

fn f32s(case: &Case, key: &str) -> std::result::Result<Vec<f32>, String> {
    case.inputs
        .get(key)
        .map(|a| a.f32())
        .ok_or_else(|| format!("inputs has no `{key}`"))
}

/// `match $self { $enum::$variant($x) => $body, ... }` over every variant: the forwarding
/// `match` of [`any_loss!`] and [`any_metric!`].
macro_rules! dispatch {
    ($self:expr, $enum:ident [$($variant:ident),*], |$x:ident| $body:expr) => {
        match $self {
            $($enum::$variant($x) => $body,)*
        }
    };
}

/// `enum AnyLoss` with one variant per listed loss class (the variant named as the class), a
/// `From` per class, and [`LossFn`] for [`CaseLoss`] forwarding every method to its variant's
/// loss: static dispatch, no box, in the training step.
macro_rules! any_loss {
    ($($variant:ident),* $(,)?) => {
        /// Any of the loss classes the harness builds, behind one type.
        enum AnyLoss {
            $($variant(losses::$variant),)*
        }

        $(impl From<losses::$variant> for AnyLoss {
            fn from(loss: losses::$variant) -> Self {
                Self::$variant(loss)
            }
        })*

        impl<T> LossFn for CaseLoss<T> {
            fn name(&self) -> &str {
                dispatch!(&self.inner, AnyLoss [$($variant),*], |l| l.name())
            }
            fn reduction(&self) -> Reduction {
                dispatch!(&self.inner, AnyLoss [$($variant),*], |l| l.reduction())
            }
            fn axis(&self) -> LossAxis {
                dispatch!(&self.inner, AnyLoss [$($variant),*], |l| l.axis())
            }
            fn per_sample(
                &self,
                y_true: &[f32],
                y_pred: &[f32],
                cols: usize,
                values: &mut [f32],
                grad: Option<&mut [f32]>,
            ) -> Result<()> {
                dispatch!(&self.inner, AnyLoss [$($variant),*], |l| l
                    .per_sample(y_true, y_pred, cols, values, grad))
            }
            fn device_form(
                &self,
                y_true: &[f32],
                rows: usize,
                cols: usize,
                labels: &mut Vec<f32>,
            ) -> Result<Option<DeviceLoss>> {
                dispatch!(&self.inner, AnyLoss [$($variant),*], |l| l
                    .device_form(y_true, rows, cols, labels))
            }
            fn keras_config(&self) -> Option<Value> {
                dispatch!(&self.inner, AnyLoss [$($variant),*], |l| l.keras_config())
            }
            fn mask(&self, y_true: &[f32], mask: &mut [f32]) -> bool {
                dispatch!(&self.inner, AnyLoss [$($variant),*], |l| l.mask(y_true, mask))
            }
        }
    };
}

any_loss!(
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Huber,
    LogCosh,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    KLDivergence,
    Poisson,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    CosineSimilarity,
);

/// A loss built from a case's config, for labels of layout `T`: any of Keras's loss classes
/// behind one type ([`AnyLoss`]), every [`LossFn`] method the inner loss's.
struct CaseLoss<T> {
    inner: AnyLoss,
    labels: PhantomData<T>,
}

impl<const K: usize, T: Target> Loss<K> for CaseLoss<T> {
    type Target = T;
}

/// The class Keras's loss string `name` (`compile(loss="mse")`) stands for; a class name
/// stands for itself.
fn loss_class(name: &str) -> &str {
    match name {
        "mse" | "MSE" | "mean_squared_error" => "MeanSquaredError",
        "mae" | "MAE" | "mean_absolute_error" => "MeanAbsoluteError",
        "mape" | "MAPE" | "mean_absolute_percentage_error" => "MeanAbsolutePercentageError",
        "msle" | "MSLE" | "mean_squared_logarithmic_error" => "MeanSquaredLogarithmicError",
        "huber" => "Huber",
        "log_cosh" => "LogCosh",
        "bce" | "BCE" | "binary_crossentropy" => "BinaryCrossentropy",
        "binary_focal_crossentropy" => "BinaryFocalCrossentropy",
        "categorical_crossentropy" => "CategoricalCrossentropy",
        "sparse_categorical_crossentropy" => "SparseCategoricalCrossentropy",
        "categorical_focal_crossentropy" => "CategoricalFocalCrossentropy",
        "kld" | "KLD" | "kl_divergence" => "KLDivergence",
        "poisson" => "Poisson",
        "hinge" => "Hinge",
        "squared_hinge" => "SquaredHinge",
        "categorical_hinge" => "CategoricalHinge",
        "cosine_similarity" => "CosineSimilarity",
        class => class,
    }
}

/// The class of a case's `config.loss` and the config of its parameters: the fixtures'
/// `{"class": ..., ...parameters}`, Keras's serialized `{"class_name": ..., "config": {...}}`,
/// or a loss string (Keras's defaults).
fn loss_config(loss: &Value) -> std::result::Result<(&str, Cfg<'_>), String> {
    if let Some(name) = loss.as_str() {
        return Ok((loss_class(name), Cfg::new(&Value::Null)));
    }
    if let Some(class) = loss.get("class").and_then(Value::as_str) {
        let c = Cfg::new(loss);
        c.get("class");
        return Ok((class, c));
    }
    if let Some(class) = loss.get("class_name").and_then(Value::as_str) {
        let c = Cfg::new(&loss["config"]);
        // Keras's serialized loss names itself; the name is a label.
        c.get("name");
        return Ok((class, c));
    }
    Err(format!("loss {loss} is neither a loss config nor a string"))
}

/// Sets an optional parameter: `$loss = $set` with `$x` bound to the value, when the config
/// gives one (Keras's default, which the loss already has, otherwise).
macro_rules! given {
    ($loss:ident, $value:expr, |$x:ident| $set:expr) => {
        if let Some($x) = $value {
            $loss = $set;
        }
    };
}

impl<T: Target> CaseLoss<T> {
    /// Whether the loss of Keras class `class` takes class ids (else dense rows).
    fn takes_class_ids(class: &str) -> bool {
        class == "SparseCategoricalCrossentropy"
    }

    /// The loss of Keras class `class` with the parameters `c` gives (Keras's defaults for the
    /// others), after checking that every key of `c` was read; an unknown class is an `Err`
    /// naming it.
    fn new(class: &str, c: &Cfg) -> std::result::Result<Self, String> {
        if Self::takes_class_ids(class) != T::SPARSE {
            return Err(format!("loss {class} does not take these labels"));
        }
        let e = |e: keras_core::Error| e.to_string();
        let reduction = match c.opt_str("reduction")? {
            Some(name) => Some(Reduction::from_keras(name).map_err(e)?),
            None => None,
        };
        match c.get("axis") {
            Value::Null => {}
            v if v.as_i64() == Some(-1) => {}
            v => return Err(format!("loss axis {v}: only the last axis (-1) is built")),
        }
        let from_logits = c.opt_bool("from_logits")?;
        let smoothing = c.opt_f64("label_smoothing")?.map(|s| s as f32);
        let alpha = c.opt_f64("alpha")?.map(|a| a as f32);
        let gamma = c.opt_f64("gamma")?.map(|g| g as f32);
        macro_rules! any {
            ($loss:expr) => {{
                let mut loss = $loss;
                given!(loss, reduction, |r| loss.with_reduction(r));
                AnyLoss::from(loss)
            }};
        }
        let inner = match class {
            "MeanSquaredError" => any!(losses::MeanSquaredError::default()),
            "MeanAbsoluteError" => any!(losses::MeanAbsoluteError::default()),
            "MeanAbsolutePercentageError" => {
                any!(losses::MeanAbsolutePercentageError::default())
            }
            "MeanSquaredLogarithmicError" => {
                any!(losses::MeanSquaredLogarithmicError::default())
            }
            "Huber" => {
                let delta = c.opt_f64("delta")?.unwrap_or(1.0) as f32;
                any!(losses::Huber::new(delta).map_err(e)?)
            }
            "LogCosh" => any!(losses::LogCosh::default()),
            "BinaryCrossentropy" => {
                let mut l = losses::BinaryCrossentropy::default();
                given!(l, from_logits, |b| l.with_from_logits(b));
                given!(l, smoothing, |s| l.with_label_smoothing(s).map_err(e)?);
                any!(l)
            }
            "BinaryFocalCrossentropy" => {
                let mut l = losses::BinaryFocalCrossentropy::default();
                given!(l, c.opt_bool("apply_class_balancing")?, |b| l
                    .with_apply_class_balancing(b));
                given!(l, alpha, |a| l.with_alpha(a).map_err(e)?);
                given!(l, gamma, |g| l.with_gamma(g).map_err(e)?);
                given!(l, from_logits, |b| l.with_from_logits(b));
                given!(l, smoothing, |s| l.with_label_smoothing(s).map_err(e)?);
                any!(l)
            }
            "CategoricalCrossentropy" => {
                let mut l = losses::CategoricalCrossentropy::default();
                given!(l, from_logits, |b| l.with_from_logits(b));
                given!(l, smoothing, |s| l.with_label_smoothing(s).map_err(e)?);
                any!(l)
            }
            "SparseCategoricalCrossentropy" => {
                let mut l = losses::SparseCategoricalCrossentropy::default();
                given!(l, from_logits, |b| l.with_from_logits(b));
                let ignore = c.get("ignore_class");
                if !ignore.is_null() {
                    let id = ignore
                        .as_i64()
                        .ok_or(format!("ignore_class {ignore} is not an integer"))?;
                    l = l.with_ignore_class(Some(id));
                }
                any!(l)
            }
            "CategoricalFocalCrossentropy" => {
                let mut l = losses::CategoricalFocalCrossentropy::default();
                given!(l, alpha, |a| l.with_alpha(a).map_err(e)?);
                given!(l, gamma, |g| l.with_gamma(g).map_err(e)?);
                given!(l, from_logits, |b| l.with_from_logits(b));
                given!(l, smoothing, |s| l.with_label_smoothing(s).map_err(e)?);
                any!(l)
            }
            "KLDivergence" => any!(losses::KLDivergence::default()),
            "Poisson" => any!(losses::Poisson::default()),
            "Hinge" => any!(losses::Hinge::default()),
            "SquaredHinge" => any!(losses::SquaredHinge::default()),
            "CategoricalHinge" => any!(losses::CategoricalHinge::default()),
            "CosineSimilarity" => any!(losses::CosineSimilarity::default()),
            other => return Err(format!("unknown loss {other:?}")),
        };
        c.check_all_used(&format!("loss {class}"))?;
        Ok(Self {
            inner,
            labels: PhantomData,
        })
    }
}

/// `enum AnyMetric<T>` with one variant per listed metric type (`Variant(Type)`), and
/// [`MetricFn`] for [`CaseMetric`] forwarding every method but `name` (the string Keras logs it
/// under) and `merge_state` (which `fit` does not call; it keeps the default) to its variant's
/// metric: static dispatch, no box, in the training step.
macro_rules! any_metric {
    ($($variant:ident($ty:ty)),* $(,)?) => {
        /// Any of the metrics the harness builds, for labels of layout `T`, behind one type.
        enum AnyMetric<T: Target> {
            $($variant($ty),)*
        }

        impl<T: Target> MetricFn for CaseMetric<T> {
            fn name(&self) -> &str {
                &self.name
            }
            fn direction(&self) -> Direction {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.direction())
            }
            fn update_state(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                cols: usize,
                sample_weight: Option<&[f32]>,
            ) -> Result<()> {
                dispatch!(&mut self.inner, AnyMetric [$($variant),*], |m| m
                    .update_state(y_true, y_pred, cols, sample_weight))
            }
            fn result(&self) -> f32 {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.result())
            }
            fn result_values(&self) -> Vec<f32> {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.result_values())
            }
            fn reset_state(&mut self) {
                dispatch!(&mut self.inner, AnyMetric [$($variant),*], |m| m.reset_state())
            }
            fn state_values(&self) -> Option<Vec<f32>> {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.state_values())
            }
            fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
                dispatch!(&mut self.inner, AnyMetric [$($variant),*], |m| m.load_state_values(values))
            }
            fn row_form(&self) -> Option<RowMetric> {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.row_form())
            }
            fn confusion_form(&self) -> Option<ConfusionForm<'_>> {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.confusion_form())
            }
            fn column_form(&self) -> Option<ColumnForm> {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.column_form())
            }
            fn prepare(&mut self, cols: usize) -> Result<()> {
                dispatch!(&mut self.inner, AnyMetric [$($variant),*], |m| m.prepare(cols))
            }
            fn keras_config(&self) -> Option<Value> {
                dispatch!(&self.inner, AnyMetric [$($variant),*], |m| m.keras_config())
            }
        }
    };
}

any_metric!(
    Accuracy(ResolvedAccuracy<T>),
    SparseCategoricalAccuracy(metrics::SparseCategoricalAccuracy),
    SparseCategoricalCrossentropy(metrics::SparseCategoricalCrossentropy),
    BinaryAccuracy(metrics::BinaryAccuracy),
    CategoricalAccuracy(metrics::CategoricalAccuracy),
    MeanAbsoluteError(metrics::MeanAbsoluteError),
    MeanSquaredError(metrics::MeanSquaredError),
    MeanAbsolutePercentageError(metrics::MeanAbsolutePercentageError),
    MeanSquaredLogarithmicError(metrics::MeanSquaredLogarithmicError),
    RootMeanSquaredError(metrics::RootMeanSquaredError),
    LogCoshError(metrics::LogCoshError),
    BinaryCrossentropy(metrics::BinaryCrossentropy),
    CategoricalCrossentropy(metrics::CategoricalCrossentropy),
    KLDivergence(metrics::KLDivergence),
    Poisson(metrics::Poisson),
    Hinge(metrics::Hinge),
    SquaredHinge(metrics::SquaredHinge),
    CategoricalHinge(metrics::CategoricalHinge),
    CosineSimilarity(metrics::CosineSimilarity),
    Auc(metrics::Auc),
    Precision(metrics::Precision),
    Recall(metrics::Recall),
    TruePositives(metrics::TruePositives),
    FalsePositives(metrics::FalsePositives),
    TrueNegatives(metrics::TrueNegatives),
    FalseNegatives(metrics::FalseNegatives),
    R2Score(metrics::R2Score),
    PearsonCorrelation(metrics::PearsonCorrelation),
    ConcordanceCorrelation(metrics::ConcordanceCorrelation),
    TopK(metrics::TopKCategoricalAccuracy<5>),
    SparseTopK(metrics::SparseTopKCategoricalAccuracy<5>),
);

/// A metric Keras's `compile(metrics=[name])` makes of a string, for labels of layout `T`,
/// logged under that string as Keras logs it: any of the metrics the harness dispatches behind
/// one type ([`AnyMetric`]), every [`MetricFn`] method but `merge_state` (which `fit` does not
/// call) the inner metric's.
struct CaseMetric<T: Target> {
    name: String,
    inner: AnyMetric<T>,
    /// An accuracy: Keras's values are multiples of `1/N`, compared exactly.
    exact: bool,
    labels: PhantomData<T>,
}

impl<T: Target> CaseMetric<T> {
    /// The metric Keras resolves the string `name` to (`"accuracy"` by the label layout, as
    /// [`ResolvedAccuracy`] does; otherwise Keras's metric classes by class name, by snake-case
    /// name and by Keras's aliases `mae`, `mse`, `mape`, `msle`, `bce`); an unknown string, or
    /// one for other labels, or a top-k one for fewer than Keras's `k = 5` `outputs`, is an `Err`
    /// naming it.
    fn new(name: &str, outputs: usize) -> std::result::Result<Self, String> {
        use AnyMetric as A;
        // keras-rs refuses a top-k metric whose k exceeds the output width at build time
        // (`Metric::CHECK`); Keras counts every sample as a hit there.
        let top_k = |m: std::result::Result<AnyMetric<T>, keras_core::Error>| {
            if outputs < 5 {
                return Err(format!(
                    "metric {name:?} takes Keras's k = 5, more than the model's {outputs} \
                     outputs: keras-rs refuses that at build time (Keras logs 1.0)"
                ));
            }
            Ok((m.map_err(|e| e.to_string())?, true))
        };
        let (inner, exact): (AnyMetric<T>, bool) = match name {
            "accuracy" | "acc" => (A::Accuracy(Default::default()), true),
            "sparse_categorical_accuracy" | "SparseCategoricalAccuracy" => {
                (A::SparseCategoricalAccuracy(Default::default()), true)
            }
            "sparse_categorical_crossentropy" | "SparseCategoricalCrossentropy" => {
                (A::SparseCategoricalCrossentropy(Default::default()), false)
            }
            "binary_accuracy" | "BinaryAccuracy" => (A::BinaryAccuracy(Default::default()), true),
            "categorical_accuracy" | "CategoricalAccuracy" => {
                (A::CategoricalAccuracy(Default::default()), true)
            }
            "mae" | "MAE" | "mean_absolute_error" | "MeanAbsoluteError" => {
                (A::MeanAbsoluteError(Default::default()), false)
            }
            "mse" | "MSE" | "mean_squared_error" | "MeanSquaredError" => {
                (A::MeanSquaredError(Default::default()), false)
            }
            "mape" | "MAPE" | "mean_absolute_percentage_error" | "MeanAbsolutePercentageError" => {
                (A::MeanAbsolutePercentageError(Default::default()), false)
            }
            "msle" | "MSLE" | "mean_squared_logarithmic_error" | "MeanSquaredLogarithmicError" => {
                (A::MeanSquaredLogarithmicError(Default::default()), false)
            }
            "root_mean_squared_error" | "RootMeanSquaredError" => {
                (A::RootMeanSquaredError(Default::default()), false)
            }
            "log_cosh_error" | "LogCoshError" => (A::LogCoshError(Default::default()), false),
            "bce" | "BCE" | "binary_crossentropy" | "BinaryCrossentropy" => {
                (A::BinaryCrossentropy(Default::default()), false)
            }
            "categorical_crossentropy" | "CategoricalCrossentropy" => {
                (A::CategoricalCrossentropy(Default::default()), false)
            }
            "kl_divergence" | "KLDivergence" => (A::KLDivergence(Default::default()), false),
            "poisson" | "Poisson" => (A::Poisson(Default::default()), false),
            "hinge" | "Hinge" => (A::Hinge(Default::default()), false),
            "squared_hinge" | "SquaredHinge" => (A::SquaredHinge(Default::default()), false),
            "categorical_hinge" | "CategoricalHinge" => {
                (A::CategoricalHinge(Default::default()), false)
            }
            "cosine_similarity" | "CosineSimilarity" => {
                (A::CosineSimilarity(Default::default()), false)
            }
            "auc" | "AUC" => (A::Auc(Default::default()), false),
            "precision" | "Precision" => (A::Precision(metrics::Precision::new()), false),
            "recall" | "Recall" => (A::Recall(metrics::Recall::new()), false),
            // Counts of samples (weighted): whole numbers, compared exactly.
            "true_positives" | "TruePositives" => (A::TruePositives(Default::default()), true),
            "false_positives" | "FalsePositives" => (A::FalsePositives(Default::default()), true),
            "true_negatives" | "TrueNegatives" => (A::TrueNegatives(Default::default()), true),
            "false_negatives" | "FalseNegatives" => (A::FalseNegatives(Default::default()), true),
            "r2_score" | "R2Score" => (A::R2Score(Default::default()), false),
            "pearson_correlation" | "PearsonCorrelation" => {
                (A::PearsonCorrelation(Default::default()), false)
            }
            "concordance_correlation" | "ConcordanceCorrelation" => {
                (A::ConcordanceCorrelation(Default::default()), false)
            }
            "top_k_categorical_accuracy" | "TopKCategoricalAccuracy" => {
                top_k(metrics::TopKCategoricalAccuracy::new().map(A::TopK))?
            }
            "sparse_top_k_categorical_accuracy" | "SparseTopKCategoricalAccuracy" => {
                top_k(metrics::SparseTopKCategoricalAccuracy::new().map(A::SparseTopK))?
            }
            other => return Err(format!("unknown metric {other:?}")),
        };
        let sparse_only = [
            "sparse_top_k_categorical_accuracy",
            "SparseTopKCategoricalAccuracy",
            "sparse_categorical_accuracy",
            "SparseCategoricalAccuracy",
            "sparse_categorical_crossentropy",
            "SparseCategoricalCrossentropy",
        ];
        let any_labels = matches!(name, "accuracy" | "acc");
        if !any_labels && sparse_only.contains(&name) != T::SPARSE {
            let labels = if T::SPARSE { "class ids" } else { "dense rows" };
            return Err(format!("metric {name:?} does not take {labels}"));
        }
        Ok(Self {
            name: name.to_string(),
            inner,
            exact,
            labels: PhantomData,
        })
    }
}

impl<const K: usize, T: Target> Metric<K> for CaseMetric<T> {
    type Target = T;
}

/// Builds the case's optimizer (any class, its learning rate a number or a schedule, Keras's
/// base options) and runs the case with it, with the loss on the device or on the host. An
/// optimizer key the harness does not read is a failure naming it.
fn with_optimizer(case: &Case, place: Where) -> std::result::Result<(), String> {
    let optimizer = AnyOptimizer::from_config(&Cfg::new(&case.config["optimizer"]))
        .map_err(|e| format!("optimizer: {e}"))?;
    run_model(case, place, optimizer)
}

fn run_model(
    case: &Case,
    place: Where,
    optimizer: AnyOptimizer,
) -> std::result::Result<(), String> {
    let dev = test_device(0);
    let model_kind = case.config["model"].as_str().unwrap_or_default();
    let w = |key: &str| f32s(case, key);
    let set = |r: Result<()>| r.map_err(|e| e.to_string());
    if model_kind.starts_with("Dense(4->8, relu)") {
        let mut model = Mlp::<f32, TestDevice>::build(&dev);
        set(model
            .hidden
            .set_weights(&w("init_kernel_0")?, &w("init_bias_0")?))?;
        set(model
            .logits
            .set_weights(&w("init_kernel_1")?, &w("init_bias_1")?))?;
        with_loss::<Rank1<4>, 3, _>(case, model, optimizer, &dev, place)
    } else if model_kind.starts_with("Conv2D(1->4, 3, relu) -> MaxPooling2D(2)") {
        let mut model = ConvNet::<f32, TestDevice>::build(&dev);
        set(model
            .conv_1
            .set_weights(&w("init_kernel_0")?, &w("init_bias_0")?))?;
        set(model
            .conv_2
            .set_weights(&w("init_kernel_1")?, &w("init_bias_1")?))?;
        set(model
            .logits
            .set_weights(&w("init_kernel_2")?, &w("init_bias_2")?))?;
        with_loss::<Rank3<12, 12, 1>, 3, _>(case, model, optimizer, &dev, place)
    } else if model_kind.starts_with("Dense(3->1") {
        let mut model = Regressor::<f32, TestDevice>::build(&dev);
        set(model
            .out
            .set_weights(&w("init_kernel_0")?, &w("init_bias_0")?))?;
        with_loss::<Rank1<3>, 1, _>(case, model, optimizer, &dev, place)
    } else {
        Err(format!("unhandled model {model_kind}"))
    }
}

/// Compiles the model with the loss of `config.loss`: its label layout (class ids or dense
/// rows) is the dataset's and the metrics'.
fn with_loss<S, const K: usize, M>(
    case: &Case,
    model: M,
    optimizer: AnyOptimizer,
    dev: &TestDevice,
    place: Where,
) -> std::result::Result<(), String>
where
    S: SampleShape,
    M: TrainModel<S, K, TestDevice>,
{
    let (class, c) = loss_config(&case.config["loss"])?;
    if CaseLoss::<Sparse>::takes_class_ids(class) {
        let loss = CaseLoss::<Sparse>::new(class, &c)?;
        with_metrics::<S, K, _, _>(case, model, optimizer, loss, dev, place)
    } else {
        let loss = CaseLoss::<DenseTarget<K>>::new(class, &c)?;
        with_metrics::<S, K, _, _>(case, model, optimizer, loss, dev, place)
    }
}

/// Compiles the model with the metrics of `config.metrics` (a list of strings, in order; none
/// when absent) and runs the case.
fn with_metrics<S, const K: usize, T, M>(
    case: &Case,
    model: M,
    optimizer: AnyOptimizer,
    loss: CaseLoss<T>,
    dev: &TestDevice,
    place: Where,
) -> std::result::Result<(), String>
where
    S: SampleShape,
    T: Target,
    M: TrainModel<S, K, TestDevice>,
{
    let names = match &case.config["metrics"] {
        Value::Null => Vec::new(),
        Value::Array(names) => names.clone(),
        other => return Err(format!("metrics {other} is not a list")),
    };
    let mut metrics = Vec::new();
    for name in &names {
        let name = name
            .as_str()
            .ok_or(format!("metric {name} is not a string"))?;
        metrics.push(CaseMetric::<T>::new(name, K)?);
    }
    let exact: Vec<String> = metrics
        .iter()
        .filter(|m| m.exact)
        .map(|m| m.name.clone())
        .collect();
    // Keras's metrics list, any length: a `Vec` of one type is a `MetricSet`.
    let trainer =
        Trainer::compile(model, optimizer, loss, metrics, dev).map_err(|e| e.to_string())?;
    run::<S, K, T, M, _, _, _>(case, trainer, &exact, place)
}

/// Trains the compiled `trainer` as the case says and compares everything Keras recorded;
/// `exact` names the metrics compared exactly (accuracies).
fn run<S, const K: usize, T, M, O, L, Mt>(
    case: &Case,
    mut trainer: Trainer<M, O, L, Mt, (), TestDevice>,
    exact: &[String],
    place: Where,
) -> std::result::Result<(), String>
where
    S: keras_core::data::SampleShape,
    T: Target,
    M: TrainModel<S, K, TestDevice>,
    O: Optimizer,
    L: Loss<K, Target = T>,
    Mt: MetricSet<K, T>,
{
    let e = |e: keras_core::Error| e.to_string();
    let mut train =
        ArrayDataset::<S, T>::new(f32s(case, "x_train")?, f32s(case, "y_train")?).map_err(e)?;
    if case.config["sample_weight"].as_bool() == Some(true) {
        train = train
            .with_sample_weight(f32s(case, "sample_weight")?)
            .map_err(e)?;
    }
    let val = ArrayDataset::<S, T>::new(f32s(case, "x_val")?, f32s(case, "y_val")?).map_err(e)?;
    trainer.set_loss_on_device(place != Where::Host);
    trainer.set_metrics_on_device(place != Where::Host);
    let mut recorder = Recorder {
        batch_logs: place != Where::DeviceEpochReads,
        batch_loss: Vec::new(),
        epoch_weights: Vec::new(),
    };
    let batch_size = case.config["batch_size"].as_u64().ok_or("batch_size")? as usize;
    let epochs = case.config["epochs"].as_u64().ok_or("epochs")? as usize;
    let mut fit = trainer
        .fit(&train)
        .epochs(epochs)
        .batch_size(batch_size)
        .shuffle(Shuffle::None)
        .verbose(0);
    if case.inputs.contains_key("class_weight") {
        fit = fit.class_weight(f32s(case, "class_weight")?);
    }
    let history = fit
        .validation_data(&val)
        .callbacks(&mut recorder)
        .run()
        .map_err(e)?;

    let mut failures = Vec::new();
    let mut check = |what: &str, got: &[f32], tol: f64| {
        let outcome = match case.expected.get(what) {
            Some(expected) => compare(got, expected, tol * DEVICE_TOL_FACTOR),
            None => Err("not in the case's expected values".into()),
        };
        if let Err(msg) = outcome {
            failures.push(format!("{what}: {msg}"));
        }
    };
    // Accuracies are multiples of `1/N`: compared exactly; losses and other metrics at 1e-5.
    let tol_of = |key: &str| {
        let metric = key.strip_prefix("val_").unwrap_or(key);
        if exact.iter().any(|m| m == metric) {
            0.0
        } else {
            1e-5
        }
    };
    for key in case.config["history_keys"]
        .as_array()
        .ok_or("history_keys")?
    {
        let key = key.as_str().ok_or("history key")?;
        let got = history.get(key).ok_or(format!("history has no {key}"))?;
        check(&format!("history_{key}"), got, tol_of(key));
    }
    if recorder.batch_logs {
        check("batch_running_loss", &recorder.batch_loss, 1e-5);
    }
    // Weights: the flat layout is [kernel_0, bias_0, kernel_1, bias_1, ...] in field order,
    // one pair per layer with weights, as many as the case has initial kernels.
    let names: Vec<String> = (0..)
        .take_while(|i| case.inputs.contains_key(&format!("init_kernel_{i}")))
        .flat_map(|i| [format!("kernel_{i}"), format!("bias_{i}")])
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let split = |flat: &[f32]| -> Vec<Vec<f32>> {
        let mut out = Vec::new();
        let mut at = 0;
        for v in &trainer_layout(&names, case) {
            out.push(flat[at..at + v].to_vec());
            at += v;
        }
        out
    };
    let final_weights = split(&trainer.weights().values);
    for (name, got) in names.iter().zip(&final_weights) {
        check(&format!("final_{name}"), got, 1e-4);
    }
    for (i, name) in names.iter().enumerate() {
        let per_epoch: Vec<f32> = recorder
            .epoch_weights
            .iter()
            .flat_map(|w| split(w)[i].clone())
            .collect();
        check(&format!("epoch_{name}"), &per_epoch, 1e-4);
    }
    let ev = trainer.evaluate(&val).run().map_err(e)?;
    let ev5 = trainer.evaluate(&val).batch_size(5).run().map_err(e)?;
    // The loss and every compiled metric, under the names Keras logged them.
    let mut keys = vec!["loss".to_string()];
    trainer
        .metrics()
        .visit_results(&mut |name, _| keys.push(name.to_string()));
    for key in &keys {
        let tol = tol_of(key);
        let got = ev.get(key).ok_or(format!("evaluate logged no `{key}`"))?;
        check(&format!("evaluate_{key}"), &[got], tol);
        let got = ev5.get(key).ok_or(format!("evaluate logged no `{key}`"))?;
        check(&format!("evaluate_bs5_{key}"), &[got], tol);
    }
    let pred = trainer.predict(&val).run().map_err(e)?;
    check("predict_val", &pred, 1e-4);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// Sizes of the weights named in `names`, read from the case's initial weights.
fn trainer_layout(names: &[&str], case: &Case) -> Vec<usize> {
    names
        .iter()
        .map(|n| case.inputs[&format!("init_{n}")].data.len())
        .collect()
}

/// Every case of `fit.json` (the public fixture), `fit_more.json` (norm clipping with sample
/// weights, weight decay, more optimizers; `make_fit_more.py` beside it) and `fit_conv.json` (a
/// convnet with two convolutions and max pooling; `make_fit_conv.py`) and `fit_metrics.json`
/// (seven metrics by Keras's strings; `make_fit_metrics.py`), whatever their number. The
/// metrics compile as a `Vec` ([`MetricSet`] of any length), as Keras's list.
#[test]
fn every_keras_fit_case_matches() {
    let mut cases = load_cases("fit");
    cases.extend(load("fit_conv.json").cases);
    cases.extend(load("fit_metrics.json").cases);
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, with_optimizer(case, Where::Host));
        report.record(
            &format!("{} (loss and metrics on the device)", case.name),
            with_optimizer(case, Where::Device),
        );
        report.record(
            &format!("{} (on the device, read once per epoch)", case.name),
            with_optimizer(case, Where::DeviceEpochReads),
        );
    }
    report.finish(3 * cases.len());
}
