//! Every case of Keras's `metrics.json`: each metric is built from the case's `config`, fed the
//! three batches, and `result_values()` is compared with Keras's `result()` after every batch.
//! A second pass splits the batches between two instances and merges them. A third feeds the
//! metrics that have a row form (`MetricFn::row_form`), a confusion form
//! (`MetricFn::confusion_form`), a column form (`MetricFn::column_form`) or an IoU form
//! (`MetricFn::iou_form`) through their device kernel (`KerasDevice::try_mean_update`,
//! `try_confusion_update`, `try_column_update`, `try_iou_update`) on
//! [`TestDevice`](common::TestDevice), reading the state back after each batch.

mod common;

use common::{
    compare, load, load_cases, test_device, Array, Case, Report, TestDevice, DEVICE_TOL_FACTOR,
};
use keras_core::device::{Buffer, KerasDevice};
use keras_core::kernels::{ConfusionConsts, MeanBatch};
use keras_core::metrics::*;
use serde_json::Value;

const TOL: f64 = 1e-5;

/// One `update_state` call of a case.
struct Batch {
    y_true: Vec<f32>,
    y_pred: Vec<f32>,
    cols: usize,
    sample_weight: Option<Vec<f32>>,
}

fn batches(case: &Case) -> Result<Vec<Batch>, String> {
    let n = case.config["num_batches"]
        .as_u64()
        .ok_or("num_batches missing")? as usize;
    (0..n)
        .map(|i| {
            let get = |key: &str| case.inputs.get(&format!("{key}_{i}"));
            let (y_true, y_pred) = match get("values") {
                Some(values) => (Vec::new(), values),
                None => (
                    get("y_true").ok_or("y_true missing")?.f32(),
                    get("y_pred").ok_or("y_pred missing")?,
                ),
            };
            let cols = if y_pred.shape.len() >= 2 {
                *y_pred.shape.last().unwrap_or(&1)
            } else {
                1
            };
            Ok(Batch {
                y_true,
                y_pred: y_pred.f32(),
                cols,
                sample_weight: get("sample_weight").map(|w| w.f32()),
            })
        })
        .collect()
}

/// Keras's `result()` after batch `i`.
fn result(case: &Case, i: usize) -> Result<&Array, String> {
    let key = format!("result_{i}");
    case.expected
        .get(&key)
        .ok_or_else(|| format!("expected has no `{key}`"))
}

fn feed<M: MetricFn>(m: &mut M, b: &Batch) -> Result<(), String> {
    m.update_state(&b.y_true, &b.y_pred, b.cols, b.sample_weight.as_deref())
        .map_err(|e| format!("update_state failed: {e}"))
}

/// What to do with a metric built from a case.
trait Check {
    fn check<M: MetricFn + Clone>(&mut self, case: &Case, metric: M) -> Result<(), String>;
}

/// One instance sees every batch; compared after each.
struct Sequential;

impl Check for Sequential {
    fn check<M: MetricFn + Clone>(&mut self, case: &Case, mut m: M) -> Result<(), String> {
        for (i, b) in batches(case)?.iter().enumerate() {
            feed(&mut m, b)?;
            let expected = result(case, i)?;
            compare(&m.result_values(), expected, TOL)
                .map_err(|e| format!("after batch {i}: {e}"))?;
        }
        Ok(())
    }
}

/// The first batch goes to one instance, the rest to another; the merged result must equal the
/// final result.
struct Merged;

impl Check for Merged {
    fn check<M: MetricFn + Clone>(&mut self, case: &Case, m: M) -> Result<(), String> {
        let all = batches(case)?;
        let (mut first, mut rest) = (m.clone(), m);
        feed(&mut first, all.first().ok_or("no batch")?)?;
        for b in all.iter().skip(1) {
            feed(&mut rest, b)?;
        }
        first
            .merge_state(&rest)
            .map_err(|e| format!("merge_state failed: {e}"))?;
        let last = all.len().checked_sub(1).ok_or("no batch")?;
        let expected = result(case, last)?;
        compare(&first.result_values(), expected, TOL)
    }
}

/// For metrics with a row form, a confusion form or a column form: each batch goes through the
/// device kernel on
/// [`TestDevice`] into the metric's state there, which is read back into the metric after each
/// batch and compared. Other metrics are not counted in `ran`.
struct OnDevice {
    dev: TestDevice,
    ran: usize,
    /// How many of `ran` were confusion-form metrics.
    counted: usize,
    /// How many of `ran` were column-form metrics.
    summed: usize,
    /// How many of `ran` were IoU-form metrics.
    matrices: usize,
}

impl Check for OnDevice {
    fn check<M: MetricFn + Clone>(&mut self, case: &Case, m: M) -> Result<(), String> {
        if m.confusion_form().is_some() {
            return self.check_counts(case, m);
        }
        if m.iou_form().is_some() {
            return self.check_iou(case, m);
        }
        let mut prepared = m.clone();
        let cols = batches(case)?.first().ok_or("no batch")?.cols;
        ok(prepared.prepare(cols))?;
        if prepared.column_form().is_some() {
            return self.check_columns(case, prepared);
        }
        self.check_means(case, m)
    }
}

impl OnDevice {
    /// A row-form metric: each batch through `try_mean_update` into a `[total, count]` state.
    fn check_means<M: MetricFn>(&mut self, case: &Case, mut m: M) -> Result<(), String> {
        let Some(form) = m.row_form() else {
            return Ok(());
        };
        self.run(case, &mut m, |dev, batch, state| {
            dev.try_mean_update(form, batch, state, 0)
        })
    }

    /// A column-form metric (sized for the batches' width first): each batch through
    /// `try_column_update` into its saved state on the device.
    fn check_columns<M: MetricFn>(&mut self, case: &Case, mut m: M) -> Result<(), String> {
        let form = m.column_form().ok_or("no column form")?;
        self.run(case, &mut m, |dev, batch, state| {
            dev.try_column_update(&form, batch, state)
        })?;
        self.summed += 1;
        Ok(())
    }

    /// A confusion-form metric: each batch through `try_confusion_update` into its saved state
    /// on the device, with the form's thresholds and label weights uploaded once.
    fn check_counts<M: MetricFn>(&mut self, case: &Case, mut m: M) -> Result<(), String> {
        let e = |e| format!("device error: {e:?}");
        let cols = batches(case)?.first().ok_or("no batch")?.cols;
        let form = m.confusion_form().ok_or("no confusion form")?.into_owned();
        if form.labels != form.labels_for(cols) {
            return Err(format!(
                "the form keeps {} label columns for {cols}",
                form.labels
            ));
        }
        let consts = ConfusionConsts {
            thresholds: self.dev.try_upload(&form.thresholds).map_err(e)?,
            label_weights: match &form.label_weights {
                Some(lw) => Some(self.dev.try_upload(lw).map_err(e)?),
                None => None,
            },
        };
        self.run(case, &mut m, |dev, batch, state| {
            dev.try_confusion_update(&form, &consts, batch, state)
        })?;
        self.counted += 1;
        Ok(())
    }

    /// An IoU-form metric: each batch through `try_iou_update` into the device's counts, which
    /// are read back after each batch and added to the metric's saved state from before the
    /// first batch. A prediction out of range recorded by the device fails the case.
    fn check_iou<M: MetricFn>(&mut self, case: &Case, mut m: M) -> Result<(), String> {
        let dev = &self.dev;
        let e = |e| format!("device error: {e:?}");
        let form = m.iou_form().ok_or("no IoU form")?;
        let initial = m.state_values().ok_or("an IoU metric has a state")?;
        let mut counts = dev.try_iou_counts(form.device_len()).map_err(e)?;
        let mut read = Vec::new();
        for (i, b) in batches(case)?.iter().enumerate() {
            let uploaded = Uploaded::new(dev, b)?;
            let batch = uploaded.batch();
            dev.try_iou_update(&form, &batch, &mut counts).map_err(e)?;
            dev.try_read_iou_counts(&counts, &mut read).map_err(e)?;
            let check = &read[form.cells()..];
            if check[0] != 0 {
                return Err(format!("the device recorded {} bad predictions", check[0]));
            }
            let state = form
                .add_counts(&initial, &read)
                .ok_or("the saved state is shorter than the form")?;
            ok(m.load_state_values(&state))?;
            let expected = result(case, i)?;
            compare(&m.result_values(), expected, TOL * DEVICE_TOL_FACTOR)
                .map_err(|e| format!("after batch {i} on the device: {e}"))?;
        }
        self.ran += 1;
        self.matrices += 1;
        Ok(())
    }

    /// Uploads `m`'s saved state, feeds each batch of the case to `update` on the device, reads
    /// the state back into `m` after each batch and compares its result with Keras's.
    fn run<M: MetricFn>(
        &mut self,
        case: &Case,
        m: &mut M,
        mut update: impl FnMut(
            &TestDevice,
            &MeanBatch<'_, Buffer<TestDevice>>,
            &mut Buffer<TestDevice>,
        )
            -> Result<(), <TestDevice as keras_core::dfdx::tensor::HasErr>::Err>,
    ) -> Result<(), String> {
        let dev = &self.dev;
        let e = |e| format!("device error: {e:?}");
        let initial = m.state_values().ok_or("a device-form metric has a state")?;
        let mut state = dev.try_upload(&initial).map_err(e)?;
        let mut values = vec![0.0f32; initial.len()];
        for (i, b) in batches(case)?.iter().enumerate() {
            let uploaded = Uploaded::new(dev, b)?;
            let batch = uploaded.batch();
            update(dev, &batch, &mut state).map_err(e)?;
            dev.try_download(&state, &mut values).map_err(e)?;
            ok(m.load_state_values(&values))?;
            let expected = result(case, i)?;
            compare(&m.result_values(), expected, TOL * DEVICE_TOL_FACTOR)
                .map_err(|e| format!("after batch {i} on the device: {e}"))?;
        }
        self.ran += 1;
        Ok(())
    }
}

/// A batch's predictions, labels and weights on the device.
struct Uploaded {
    y_pred: Buffer<TestDevice>,
    y_true: Buffer<TestDevice>,
    weights: Option<Buffer<TestDevice>>,
    rows: usize,
    cols: usize,
}

impl Uploaded {
    fn new(dev: &TestDevice, b: &Batch) -> Result<Self, String> {
        let e = |e| format!("device error: {e:?}");
        let weights = match &b.sample_weight {
            Some(w) => Some(dev.try_upload(w).map_err(e)?),
            None => None,
        };
        Ok(Self {
            y_pred: dev.try_upload(&b.y_pred).map_err(e)?,
            y_true: dev.try_upload(&b.y_true).map_err(e)?,
            weights,
            rows: b.y_pred.len() / b.cols,
            cols: b.cols,
        })
    }

    /// The batch as the kernels take it.
    fn batch(&self) -> MeanBatch<'_, Buffer<TestDevice>> {
        MeanBatch {
            y_pred: &self.y_pred,
            y_true: &self.y_true,
            weights: self.weights.as_ref(),
            unit_weight: 1.0,
            rows: self.rows,
            cols: self.cols,
        }
    }
}

fn f32_of(v: &Value) -> Option<f32> {
    v.as_f64().map(|x| x as f32)
}

/// A list of numbers, or a single number as a list of one (Keras's `to_list`).
fn f32_list(v: &Value) -> Option<Vec<f32>> {
    match v.as_array() {
        Some(a) => Some(a.iter().filter_map(f32_of).collect()),
        None => f32_of(v).map(|x| vec![x]),
    }
}

fn usize_of(v: &Value) -> Option<usize> {
    v.as_u64().map(|x| x as usize)
}

/// A list of class ids.
fn usize_list(v: &Value) -> Option<Vec<usize>> {
    v.as_array()?.iter().map(usize_of).collect()
}

fn ok<T>(r: keras_core::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("construction failed: {e}"))
}

/// The thresholds Keras used must be the ones the metric uses.
fn same_thresholds(case: &Case, got: &[f32]) -> Result<(), String> {
    let want = f32_list(&case.config["thresholds_used"]).ok_or("thresholds_used missing")?;
    if want != got {
        return Err(format!("thresholds {got:?} != Keras's {want:?}"));
    }
    Ok(())
}

fn axis_is_last(cfg: &Value) -> Result<(), String> {
    match cfg.get("axis").and_then(Value::as_i64) {
        None | Some(-1) => Ok(()),
        Some(a) => Err(format!("axis {a} is not supported")),
    }
}

/// Precision or Recall with the case's `thresholds`, `top_k` and `class_id`, after checking
/// that it uses the thresholds Keras used.
macro_rules! rate_metric {
    ($new:expr, $case:expr) => {{
        let cfg = &$case.config;
        let mut m = $new;
        if let Some(t) = f32_list(&cfg["thresholds"]) {
            m = ok(m.with_thresholds(&t))?;
        }
        if let Some(k) = usize_of(&cfg["top_k"]) {
            m = ok(m.with_top_k(k))?;
        }
        if let Some(id) = usize_of(&cfg["class_id"]) {
            m = m.with_class_id(id);
        }
        same_thresholds($case, m.thresholds())?;
        m
    }};
}

/// A condition count (`TruePositives`, ...) with the case's `thresholds`.
macro_rules! condition_count {
    ($metric:ident, $cfg:expr) => {
        match f32_list(&$cfg["thresholds"]) {
            Some(t) => ok($metric::default().with_thresholds(&t))?,
            None => $metric::default(),
        }
    };
}

/// A rate-at metric (`PrecisionAtRecall`, ...) with the case's constraint `$param`,
/// `num_thresholds` and `class_id`.
macro_rules! rate_at {
    ($metric:ident, $param:literal, $cfg:expr) => {{
        let at = f32_of(&$cfg[$param]).ok_or(concat!($param, " missing"))?;
        let mut m = ok($metric::new(at))?;
        if let Some(n) = usize_of(&$cfg["num_thresholds"]) {
            m = ok(m.with_num_thresholds(n))?;
        }
        if let Some(id) = usize_of(&$cfg["class_id"]) {
            m = m.with_class_id(id);
        }
        m
    }};
}

/// A crossentropy metric with the case's `from_logits` and `label_smoothing`.
macro_rules! smoothed {
    ($metric:ident, $from_logits:expr, $smoothing:expr) => {
        ok($metric::default()
            .with_from_logits($from_logits)
            .with_label_smoothing($smoothing))?
    };
}

/// `IoU`, `MeanIoU`, `OneHotIoU` or `OneHotMeanIoU` (`class`) over `C` classes with the case's
/// `target_class_ids` (the mean IoUs average every class), `ignore_class` and `sparse_y_pred`
/// (Keras's default: the class's `sparse_y_true`), after checking that the case's `sparse_y_true`
/// is the class's: ids for `IoU`/`MeanIoU`, one-hot rows for the `OneHot` ones.
fn iou_of<const C: usize>(case: &Case, class: &str, c: &mut impl Check) -> Result<(), String> {
    let cfg = &case.config;
    let sparse_true = !class.starts_with("OneHot");
    if cfg["sparse_y_true"].as_bool().unwrap_or(sparse_true) != sparse_true {
        return Err(format!(
            "{class} with sparse_y_true = {} is not built",
            !sparse_true
        ));
    }
    let ignore_class = cfg["ignore_class"].as_i64();
    let sparse_pred = cfg["sparse_y_pred"].as_bool().unwrap_or(sparse_true);
    let targets = || usize_list(&cfg["target_class_ids"]).ok_or("target_class_ids missing");
    macro_rules! with_options {
        ($new:expr) => {
            c.check(
                case,
                ok($new)?
                    .with_ignore_class(ignore_class)
                    .with_sparse_y_pred(sparse_pred),
            )
        };
    }
    match class {
        "IoU" => with_options!(IoU::<C>::new(&targets()?)),
        "MeanIoU" => with_options!(MeanIoU::<C>::new()),
        "OneHotIoU" => with_options!(OneHotIoU::<C>::new(&targets()?)),
        "OneHotMeanIoU" => with_options!(OneHotMeanIoU::<C>::new()),
        other => Err(format!("{other} is not an IoU metric over num_classes")),
    }
}

fn dispatch(case: &Case, c: &mut impl Check) -> Result<(), String> {
    let cfg = &case.config;
    let class = cfg["class"].as_str().ok_or("class missing")?;
    axis_is_last(cfg)?;
    let k = || usize_of(&cfg["k"]).ok_or("k missing");
    let from_logits = cfg["from_logits"].as_bool().unwrap_or(false);
    let smoothing = f32_of(&cfg["label_smoothing"]).unwrap_or(0.0);
    let ignore_class = cfg["ignore_class"].as_i64();
    match class {
        "Mean" => c.check(case, Mean::<keras_core::target::Dense<1>>::default()),
        "Accuracy" => c.check(case, Accuracy::default()),
        "BinaryAccuracy" => {
            let t = f32_of(&cfg["threshold"]).ok_or("threshold missing")?;
            c.check(case, ok(BinaryAccuracy::default().with_threshold(t))?)
        }
        "CategoricalAccuracy" => c.check(case, CategoricalAccuracy::default()),
        "SparseCategoricalAccuracy" => c.check(case, SparseCategoricalAccuracy::default()),
        "TopKCategoricalAccuracy" => {
            macro_rules! top_k {
                ($($k:literal)*) => {
                    match k()? {
                        $($k => c.check(case, ok(TopKCategoricalAccuracy::<$k>::new())?),)*
                        other => Err(format!("no instantiation for k = {other} (1..=5 are)")),
                    }
                };
            }
            top_k!(1 2 3 4 5)
        }
        "SparseTopKCategoricalAccuracy" => {
            let sorted = cfg["from_sorted_ids"].as_bool().unwrap_or(false);
            macro_rules! top_k {
                ($($k:literal)*) => {
                    match k()? {
                        $($k => c.check(
                            case,
                            ok(SparseTopKCategoricalAccuracy::<$k>::new())?
                                .with_from_sorted_ids(sorted),
                        ),)*
                        other => Err(format!("no instantiation for k = {other} (1..=5 are)")),
                    }
                };
            }
            top_k!(1 2 3 4 5)
        }
        "Precision" => c.check(case, rate_metric!(Precision::new(), case)),
        "Recall" => c.check(case, rate_metric!(Recall::new(), case)),
        "AUC" => {
            let n = usize_of(&cfg["num_thresholds"]).ok_or("num_thresholds missing")?;
            let mut m = ok(Auc::new().with_num_thresholds(n))?
                .with_curve(ok(AucCurve::from_keras(
                    cfg["curve"].as_str().unwrap_or("ROC"),
                ))?)
                .with_summation_method(ok(AucSummation::from_keras(
                    cfg["summation_method"].as_str().unwrap_or("interpolation"),
                ))?)
                .with_from_logits(from_logits);
            if let Some(t) = f32_list(&cfg["thresholds"]) {
                m = ok(m.with_thresholds(&t))?;
            }
            if cfg["multi_label"].as_bool().unwrap_or(false) {
                m = ok(m.with_multi_label(usize_of(&cfg["num_labels"])))?;
            }
            if let Some(w) = f32_list(&cfg["label_weights"]) {
                m = ok(m.with_label_weights(w))?;
            }
            same_thresholds(case, m.thresholds())?;
            c.check(case, m)
        }
        "TruePositives" => c.check(case, condition_count!(TruePositives, cfg)),
        "FalsePositives" => c.check(case, condition_count!(FalsePositives, cfg)),
        "TrueNegatives" => c.check(case, condition_count!(TrueNegatives, cfg)),
        "FalseNegatives" => c.check(case, condition_count!(FalseNegatives, cfg)),
        "PrecisionAtRecall" => c.check(case, rate_at!(PrecisionAtRecall, "recall", cfg)),
        "RecallAtPrecision" => c.check(case, rate_at!(RecallAtPrecision, "precision", cfg)),
        "SensitivityAtSpecificity" => {
            c.check(case, rate_at!(SensitivityAtSpecificity, "specificity", cfg))
        }
        "SpecificityAtSensitivity" => {
            c.check(case, rate_at!(SpecificityAtSensitivity, "sensitivity", cfg))
        }
        "F1Score" | "FBetaScore" => {
            let average = ok(FScoreAverage::from_keras(cfg["average"].as_str()))?;
            let threshold = f32_of(&cfg["threshold"]);
            if class == "F1Score" {
                let m = ok(F1Score::default()
                    .with_average(average)
                    .with_threshold(threshold))?;
                c.check(case, m)
            } else {
                let beta = f32_of(&cfg["beta"]).ok_or("beta missing")?;
                let m = ok(ok(FBetaScore::new(beta))?
                    .with_average(average)
                    .with_threshold(threshold))?;
                c.check(case, m)
            }
        }
        "MeanSquaredError" => c.check(case, MeanSquaredError::default()),
        "MeanAbsoluteError" => c.check(case, MeanAbsoluteError::default()),
        "RootMeanSquaredError" => c.check(case, RootMeanSquaredError::default()),
        "MeanAbsolutePercentageError" => c.check(case, MeanAbsolutePercentageError::default()),
        "MeanSquaredLogarithmicError" => c.check(case, MeanSquaredLogarithmicError::default()),
        "LogCoshError" => c.check(case, LogCoshError::default()),
        "CosineSimilarity" => c.check(case, CosineSimilarity::default()),
        "PearsonCorrelation" => c.check(case, PearsonCorrelation::default()),
        "ConcordanceCorrelation" => c.check(case, ConcordanceCorrelation::default()),
        "Poisson" => c.check(case, Poisson::default()),
        "KLDivergence" => c.check(case, KLDivergence::default()),
        "Hinge" => c.check(case, Hinge::default()),
        "SquaredHinge" => c.check(case, SquaredHinge::default()),
        "CategoricalHinge" => c.check(case, CategoricalHinge::default()),
        "R2Score" => {
            let aggregation = match cfg["class_aggregation"].as_str() {
                None => R2Aggregation::None,
                Some("uniform_average") => R2Aggregation::UniformAverage,
                Some("variance_weighted_average") => R2Aggregation::VarianceWeightedAverage,
                Some(other) => return Err(format!("unknown class_aggregation {other}")),
            };
            let p = usize_of(&cfg["num_regressors"]).ok_or("num_regressors missing")?;
            c.check(
                case,
                R2Score::default()
                    .with_class_aggregation(aggregation)
                    .with_num_regressors(p),
            )
        }
        "IoU" | "MeanIoU" | "OneHotIoU" | "OneHotMeanIoU" => {
            macro_rules! classes {
                ($($n:literal)*) => {
                    match usize_of(&cfg["num_classes"]).ok_or("num_classes missing")? {
                        $($n => iou_of::<$n>(case, class, c),)*
                        other => Err(format!("no instantiation for num_classes = {other} (2..=10 are)")),
                    }
                };
            }
            classes!(2 3 4 5 6 7 8 9 10)
        }
        "BinaryIoU" => {
            // Keras's defaults: both classes, threshold 0.5.
            let targets = match &cfg["target_class_ids"] {
                Value::Null => vec![0, 1],
                v => usize_list(v).ok_or("target_class_ids is not a list of class ids")?,
            };
            let threshold = f32_of(&cfg["threshold"]).unwrap_or(0.5);
            c.check(case, ok(BinaryIoU::new(&targets, threshold))?)
        }
        "BinaryCrossentropy" => {
            c.check(case, smoothed!(BinaryCrossentropy, from_logits, smoothing))
        }
        "CategoricalCrossentropy" => c.check(
            case,
            smoothed!(CategoricalCrossentropy, from_logits, smoothing),
        ),
        "SparseCategoricalCrossentropy" => {
            let m = SparseCategoricalCrossentropy::default()
                .with_from_logits(from_logits)
                .with_ignore_class(ignore_class);
            c.check(case, m)
        }
        other => Err(format!("no metric for class {other}")),
    }
}

/// Every case of `metrics.json` (the public fixture) and `metrics_more.json` (scalar thresholds,
/// other class counts and k; `make_metrics_more.py` beside it), whatever their number.
fn all_cases() -> Vec<Case> {
    load_cases("metrics")
}

#[test]
fn every_keras_metric_case_matches_after_each_batch() {
    let cases = all_cases();
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, dispatch(case, &mut Sequential));
    }
    report.finish(cases.len());
}

#[test]
fn merging_two_partial_states_matches_keras_for_every_case() {
    let cases = all_cases();
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, dispatch(case, &mut Merged));
    }
    report.finish(cases.len());
}

#[test]
fn every_metric_case_with_a_device_form_matches_on_the_device() {
    let cases = all_cases();
    let mut report = Report::default();
    let mut on_device = OnDevice {
        dev: test_device(0),
        ran: 0,
        counted: 0,
        summed: 0,
        matrices: 0,
    };
    for case in &cases {
        report.record(&case.name, dispatch(case, &mut on_device));
    }
    report.finish(cases.len());
    // The fixtures hold accuracies and mean errors; a harness that ran none of them on the device
    // would check nothing.
    assert!(on_device.ran > 0, "no case has a metric with a row form");
    // Precision, Recall and AUC cases are in the public file: their counts must run too.
    assert!(
        on_device.counted > 0,
        "no case has a metric with a confusion form"
    );
    // So are F-scores and R2: their column sums must run too.
    assert!(
        on_device.summed > 0,
        "no case has a metric with a column form"
    );
    // And the IoU family: its integer matrices must run too.
    assert!(
        on_device.matrices > 0,
        "no case has a metric with an IoU form"
    );
    println!(
        "{} cases ran on the device, {} of them confusion counts, {} column sums, {} IoU matrices",
        on_device.ran, on_device.counted, on_device.summed, on_device.matrices
    );
}

/// The public file is of the schema the harness reads (its number of cases is not pinned: the
/// harness runs whatever cases a file of the schema holds).
#[test]
fn the_public_metric_fixture_is_of_the_metrics_schema() {
    let file = load("metrics.json");
    assert_eq!(file.category, "metrics");
    assert!(!file.cases.is_empty(), "metrics.json has no case");
    for case in &file.cases {
        assert!(
            case.config["class"].is_string() && case.config["num_batches"].is_u64(),
            "{}: not a case of the metrics schema",
            case.name
        );
    }
}

#[test]
fn invalid_arguments_are_rejected_at_construction() {
    fn invalid<T>(r: keras_core::Result<T>) -> bool {
        matches!(r, Err(keras_core::Error::InvalidArgument { .. }))
    }
    // Thresholds outside [0, 1].
    assert!(invalid(Precision::new().with_thresholds(&[1.5])));
    assert!(invalid(Recall::new().with_thresholds(&[-0.1])));
    assert!(invalid(
        TruePositives::default().with_thresholds(&[0.5, 2.0])
    ));
    assert!(invalid(Auc::new().with_thresholds(&[0.5, 1.5])));
    assert!(invalid(BinaryAccuracy::default().with_threshold(1.0)));
    assert!(invalid(F1Score::default().with_threshold(Some(0.0))));
    assert!(invalid(PrecisionAtRecall::new(1.1)));
    assert!(invalid(SpecificityAtSensitivity::new(-0.2)));
    // k = 0.
    assert!(invalid(TopKCategoricalAccuracy::<0>::new()));
    assert!(invalid(SparseTopKCategoricalAccuracy::<0>::new()));
    assert!(invalid(Precision::new().with_top_k(0)));
    assert!(invalid(Recall::new().with_top_k(0)));
    // Zero classes or labels.
    assert!(invalid(MeanIoU::<0>::new()));
    assert!(invalid(IoU::<0>::new(&[0])));
    assert!(invalid(OneHotIoU::<0>::new(&[0])));
    assert!(invalid(OneHotMeanIoU::<0>::new()));
    assert!(invalid(Auc::new().with_multi_label(Some(0))));
    // Label smoothing outside [0, 1].
    assert!(invalid(
        BinaryCrossentropy::default().with_label_smoothing(1.5)
    ));
    assert!(invalid(
        CategoricalCrossentropy::default().with_label_smoothing(-0.1)
    ));
    // And valid arguments are accepted.
    assert!(Precision::new().with_thresholds(&[0.0, 1.0]).is_ok());
    assert!(MeanIoU::<1>::new().is_ok());
    assert!(BinaryCrossentropy::default()
        .with_label_smoothing(1.0)
        .is_ok());
}

/// A user function wrapped as a metric (`MeanMetricWrapper`, Keras's own wrapper) gives Keras's
/// numbers: the mean absolute error written as a row function, on every `MeanAbsoluteError`
/// case of the fixtures.
#[test]
fn a_wrapped_row_function_matches_keras_on_the_mean_absolute_error_cases() {
    let cases: Vec<Case> = all_cases()
        .into_iter()
        .filter(|c| c.config["class"].as_str() == Some("MeanAbsoluteError"))
        .collect();
    assert!(
        !cases.is_empty(),
        "the fixtures hold MeanAbsoluteError cases"
    );
    let mut report = Report::default();
    for case in &cases {
        let mae = MeanMetricWrapper::<keras_core::target::Dense<1>, _>::new(
            "mae",
            Direction::Down,
            |t: &[f32], p: &[f32]| {
                t.iter().zip(p).map(|(t, p)| (t - p).abs()).sum::<f32>() / t.len() as f32
            },
        );
        report.record(&case.name, Sequential.check(case, mae));
    }
    report.finish(cases.len());
}
