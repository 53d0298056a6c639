//! Every case of `tests/fixtures/keras/losses.json` (Keras 3, JAX, float32) against
//! `compute_loss`: the loss is built from the case's `config`, run on its inputs, and its value
//! (or, for reduction `none`, the weighted per-sample values) compared at `1e-5`. Where the loss
//! has a device form (`LossFn::device_form`: what `fit` runs on `Cuda`) and the case is one
//! `fit` can give it (a `(rows, K)` prediction, per-row or no sample weights, a scalar
//! reduction), the case is also computed with that form on [`TestDevice`](common::TestDevice)
//! and compared with the same Keras value, and the form's gradient (dfdx's backward pass) with
//! the host loss's written-out gradient.

mod common;

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;

use common::{
    compare, load, load_cases, test_device, Array, Case, Report, TestDevice, DEVICE_TOL_FACTOR,
};
use keras_core::dfdx::prelude::*;
use keras_core::losses::DeviceLoss;
use keras_core::losses::{
    compute_loss, mask_weights, BinaryCrossentropy, BinaryFocalCrossentropy,
    CategoricalCrossentropy, CategoricalFocalCrossentropy, CategoricalHinge, CosineSimilarity,
    Hinge, Huber, KLDivergence, LogCosh, LossFn, LossScratch, MeanAbsoluteError,
    MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError, Poisson, Reduction,
    SampleWeight, SparseCategoricalCrossentropy, SquaredHinge,
};

const TOL: f64 = 1e-5;

/// The device form's gradient against the host loss's written-out one: the same derivative
/// computed in another order (dfdx's chain of ops against a closed form), so a little looser.
const GRAD_TOL: f64 = 1e-4;

/// The loss classes the golden README lists for `losses.json`.
const README_CLASSES: [&str; 17] = [
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "CategoricalFocalCrossentropy",
    "KLDivergence",
    "Poisson",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "CosineSimilarity",
];

/// Reads a case's `config`, remembering which keys were used so that a parameter the Rust side
/// ignores is caught.
struct Config<'a> {
    case: &'a Case,
    used: RefCell<BTreeSet<&'static str>>,
}

impl<'a> Config<'a> {
    fn new(case: &'a Case) -> Self {
        // Informational keys (golden README §3).
        let used = RefCell::new(
            ["class", "reduction", "input_kind", "layout"]
                .into_iter()
                .collect(),
        );
        Self { case, used }
    }

    fn value(&self, key: &'static str) -> Result<&'a serde_json::Value, String> {
        self.used.borrow_mut().insert(key);
        self.case
            .config
            .get(key)
            .ok_or_else(|| format!("config has no {key:?}"))
    }

    fn f32(&self, key: &'static str) -> Result<f32, String> {
        let v = self.value(key)?;
        v.as_f64()
            .map(|x| x as f32)
            .ok_or_else(|| format!("{key} is not a number: {v}"))
    }

    fn bool(&self, key: &'static str) -> Result<bool, String> {
        let v = self.value(key)?;
        v.as_bool()
            .ok_or_else(|| format!("{key} is not a bool: {v}"))
    }

    /// Keras's `axis`: only the last axis is supported, which is all the fixture uses.
    fn last_axis(&self) -> Result<(), String> {
        match self.value("axis")?.as_i64() {
            Some(-1) => Ok(()),
            other => Err(format!("unsupported axis {other:?}")),
        }
    }

    fn ignore_class(&self) -> Result<Option<i64>, String> {
        let v = self.value("ignore_class")?;
        if v.is_null() {
            Ok(None)
        } else {
            v.as_i64()
                .map(Some)
                .ok_or_else(|| format!("ignore_class is not an int: {v}"))
        }
    }

    fn reduction(&self) -> Result<Reduction, String> {
        let name = self.case.config["reduction"]
            .as_str()
            .ok_or("reduction is not a string")?;
        Reduction::from_keras(name).map_err(|e| e.to_string())
    }

    fn check_all_used(&self) -> Result<(), String> {
        let obj = self
            .case
            .config
            .as_object()
            .ok_or("config is not an object")?;
        let used = self.used.borrow();
        match obj.keys().find(|k| !used.contains(k.as_str())) {
            Some(k) => Err(format!("config key {k:?} was not used")),
            None => Ok(()),
        }
    }
}

/// Runs one loss on a case's inputs and compares with `expected.loss`.
fn run<L: LossFn>(loss: L, case: &Case) -> Result<(), String> {
    let input = |key: &str| case.inputs.get(key).ok_or(format!("inputs has no `{key}`"));
    let y_true = input("y_true")?.f32();
    let y_pred = input("y_pred")?;
    let weight = case
        .inputs
        .get("sample_weight")
        .map(|w| (w.f32(), w.shape.clone()));
    let sample_weight = weight
        .as_ref()
        .map(|(values, shape)| SampleWeight { values, shape });
    let mut scratch = LossScratch::default();
    let scalar = loss.reduction() != Reduction::None;
    let out = compute_loss(
        &loss,
        &y_true,
        &y_pred.f32(),
        &y_pred.shape,
        sample_weight,
        scalar,
        &mut scratch,
    )
    .map_err(|e| e.to_string())?;
    let expected = case.expected.get("loss").ok_or("expected has no `loss`")?;
    let rows_only = y_pred.shape.len() == 2
        && weight
            .as_ref()
            .is_none_or(|(_, shape)| shape.as_slice() == &y_pred.shape[..1]);
    if rows_only && loss.reduction() != Reduction::None {
        let (rows, cols) = (y_pred.shape[0], y_pred.shape[1]);
        let w = weight.as_ref().map(|(values, _)| values.as_slice());
        if let Some((value, grad)) = on_device(&loss, &y_true, &y_pred.f32(), rows, cols, w)? {
            compare(&[value], expected, TOL * DEVICE_TOL_FACTOR)
                .map_err(|e| format!("loss on the device: {e}"))?;
            let host_grad = Array {
                shape: y_pred.shape.clone(),
                data: scratch.grad().iter().map(|&g| g as f64).collect(),
            };
            compare(&grad, &host_grad, GRAD_TOL * DEVICE_TOL_FACTOR)
                .map_err(|e| format!("gradient on the device against the host's: {e}"))?;
            DEVICE_CASES.with(|c| c.set(c.get() + 1));
        }
    }
    if loss.reduction() == Reduction::None {
        if scratch.values_shape() != expected.shape.as_slice() {
            return Err(format!(
                "shape {:?}, expected {:?}",
                scratch.values_shape(),
                expected.shape
            ));
        }
        compare(scratch.values(), expected, TOL)
    } else {
        compare(&[out.value], expected, TOL)
    }
}

thread_local! {
    /// How many cases were also computed with the loss's device form.
    static DEVICE_CASES: Cell<usize> = const { Cell::new(0) };
}

/// The loss through its device form on the test device, for `(rows, cols)` predictions, and
/// its gradient with respect to the predictions; `None` when the loss has no device form. A device form for a width this test does not
/// instantiate (1 to 10 columns: binary outputs and 2 to 10 classes) is an `Err` naming it.
fn on_device<L: LossFn>(
    loss: &L,
    y_true: &[f32],
    y_pred: &[f32],
    rows: usize,
    cols: usize,
    weights: Option<&[f32]>,
) -> Result<Option<(f32, Vec<f32>)>, String> {
    let mut labels = Vec::new();
    let Some(form) = loss
        .device_form(y_true, rows, cols, &mut labels)
        .map_err(|e| e.to_string())?
    else {
        return Ok(None);
    };
    // A loss that masks rows is weighed as the trainer weighs it on the device.
    let mut masked = Vec::new();
    let weights = match mask_weights(loss, y_true, rows, &mut masked) {
        true => {
            if let Some(w) = weights {
                masked.iter_mut().zip(w).for_each(|(m, w)| *m *= w);
            }
            Some(&masked[..])
        }
        false => weights,
    };
    macro_rules! width {
        ($($k:literal)*) => {
            match cols {
                $($k => Ok(Some(device_value::<$k>(form, y_pred, &labels, rows, weights, loss.reduction()))),)*
                other => Err(format!(
                    "the loss has a device form for {other} columns; this test instantiates 1 to 10"
                )),
            }
        };
    }
    width!(1 2 3 4 5 6 7 8 9 10)
}

fn device_value<const K: usize>(
    form: DeviceLoss,
    y_pred: &[f32],
    labels: &[f32],
    rows: usize,
    weights: Option<&[f32]>,
    reduction: Reduction,
) -> (f32, Vec<f32>) {
    let dev: TestDevice = test_device(0);
    let x: Tensor<(usize, Const<K>), f32, _> = dev.tensor_from_vec(y_pred.to_vec(), (rows, Const));
    let t = dev.tensor_from_vec(labels.to_vec(), (rows, Const::<K>));
    let w = weights.map(|w| dev.tensor_from_vec(w.to_vec(), (rows,)));
    let divisor = DeviceLoss::divisor(reduction, weights, rows);
    // What `fit` runs: the device's fused op for the softmax crossentropy, dfdx's ops otherwise.
    let value = form
        .loss(x.leaky_trace(), t, w, divisor)
        .expect("device loss");
    let loss = value.as_vec()[0];
    let grads = value.backward();
    (loss, grads.get(&x).as_vec())
}

/// A crossentropy with the config's `from_logits` and `label_smoothing` (errors mapped by `$e`).
macro_rules! smoothed {
    ($loss:expr, $cfg:expr, $e:expr) => {
        $loss
            .with_from_logits($cfg.bool("from_logits")?)
            .with_label_smoothing($cfg.f32("label_smoothing")?)
            .map_err($e)?
    };
}

/// Builds the loss a case describes and checks it; `Err` names what went wrong.
fn check_case(case: &Case) -> Result<(), String> {
    let cfg = Config::new(case);
    let r = cfg.reduction()?;
    let e = |e: keras_core::Error| e.to_string();
    let class = case.config["class"]
        .as_str()
        .ok_or("class is not a string")?;
    let outcome = match class {
        "MeanSquaredError" => run(MeanSquaredError::default().with_reduction(r), case),
        "MeanAbsoluteError" => run(MeanAbsoluteError::default().with_reduction(r), case),
        "MeanAbsolutePercentageError" => run(
            MeanAbsolutePercentageError::default().with_reduction(r),
            case,
        ),
        "MeanSquaredLogarithmicError" => run(
            MeanSquaredLogarithmicError::default().with_reduction(r),
            case,
        ),
        "Huber" => run(
            Huber::new(cfg.f32("delta")?).map_err(e)?.with_reduction(r),
            case,
        ),
        "LogCosh" => run(LogCosh::default().with_reduction(r), case),
        "BinaryCrossentropy" => {
            cfg.last_axis()?;
            run(
                smoothed!(BinaryCrossentropy::default(), cfg, e).with_reduction(r),
                case,
            )
        }
        "BinaryFocalCrossentropy" => {
            cfg.last_axis()?;
            let loss = BinaryFocalCrossentropy::default()
                .with_apply_class_balancing(cfg.bool("apply_class_balancing")?)
                .with_alpha(cfg.f32("alpha")?)
                .map_err(e)?
                .with_gamma(cfg.f32("gamma")?)
                .map_err(e)?;
            run(smoothed!(loss, cfg, e).with_reduction(r), case)
        }
        "CategoricalCrossentropy" => {
            cfg.last_axis()?;
            run(
                smoothed!(CategoricalCrossentropy::default(), cfg, e).with_reduction(r),
                case,
            )
        }
        "SparseCategoricalCrossentropy" => {
            cfg.last_axis()?;
            let loss = SparseCategoricalCrossentropy::default()
                .with_from_logits(cfg.bool("from_logits")?)
                .with_ignore_class(cfg.ignore_class()?);
            run(loss.with_reduction(r), case)
        }
        "CategoricalFocalCrossentropy" => {
            cfg.last_axis()?;
            let loss = CategoricalFocalCrossentropy::default()
                .with_alpha(cfg.f32("alpha")?)
                .map_err(e)?
                .with_gamma(cfg.f32("gamma")?)
                .map_err(e)?;
            run(smoothed!(loss, cfg, e).with_reduction(r), case)
        }
        "KLDivergence" => run(KLDivergence::default().with_reduction(r), case),
        "Poisson" => run(Poisson::default().with_reduction(r), case),
        "Hinge" => run(Hinge::default().with_reduction(r), case),
        "SquaredHinge" => run(SquaredHinge::default().with_reduction(r), case),
        "CategoricalHinge" => run(CategoricalHinge::default().with_reduction(r), case),
        "CosineSimilarity" => {
            cfg.last_axis()?;
            run(CosineSimilarity::default().with_reduction(r), case)
        }
        other => return Err(format!("unhandled class {other:?}")),
    };
    outcome?;
    cfg.check_all_used()
}

#[test]
fn every_keras_loss_case_matches_keras() {
    let file = load("losses.json");
    assert_eq!(file.category, "losses");
    let cases = load_cases("losses");
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, check_case(case));
    }
    report.finish(cases.len());
    let device = DEVICE_CASES.with(Cell::get);
    let expected = cases.iter().filter(|c| has_device_form(c)).count();
    eprintln!(
        "{device} of {} cases also ran with the loss on the device",
        cases.len()
    );
    assert_eq!(device, expected, "cases run with the loss's device form");
    assert!(
        expected == 0 || device > 0,
        "no case ran with the loss's device form"
    );
}

/// Whether `fit` would run the case's loss on the device (read from the case, not from the
/// losses): every loss, on `(rows, K)` predictions with per-row or no weights and a scalar
/// reduction.
fn has_device_form(case: &Case) -> bool {
    let c = &case.config;
    let Some(shape) = case.inputs.get("y_pred").map(|y| &y.shape) else {
        return false;
    };
    let weights_per_row = || {
        case.inputs
            .get("sample_weight")
            .is_none_or(|w| w.shape.as_slice() == &shape[..1])
    };
    c["class"].is_string()
        && shape.len() == 2
        && weights_per_row()
        && c["reduction"].as_str() != Some("none")
}

/// Every class of the loss files is one the golden README lists, and the harness builds it;
/// and the harness builds every class the README lists.
#[test]
fn every_loss_class_of_the_fixtures_and_of_the_readme_is_handled() {
    let mut classes = BTreeSet::new();
    for case in &load_cases("losses") {
        let class = case.config["class"].as_str().expect("class is a string");
        if classes.insert(class.to_owned()) {
            if let Err(msg) = check_case(case) {
                assert!(!msg.starts_with("unhandled class"), "{}: {msg}", case.name);
            }
        }
    }
    let readme: BTreeSet<String> = README_CLASSES.iter().map(|s| s.to_string()).collect();
    let unlisted: Vec<&String> = classes.difference(&readme).collect();
    assert!(
        unlisted.is_empty(),
        "classes the golden README does not list: {unlisted:?}"
    );
    for class in README_CLASSES {
        let case = Case {
            name: format!("{class} with no parameters"),
            config: serde_json::json!({ "class": class, "reduction": "sum" }),
            inputs: Default::default(),
            expected: Default::default(),
        };
        if let Err(msg) = check_case(&case) {
            assert!(!msg.starts_with("unhandled class"), "{}: {msg}", case.name);
        }
    }
}

#[test]
fn every_reduction_of_the_fixtures_is_parsed() {
    let cases = load_cases("losses");
    let names: BTreeSet<&str> = cases
        .iter()
        .filter_map(|c| c.config["reduction"].as_str())
        .collect();
    for name in names {
        assert!(Reduction::from_keras(name).is_ok(), "{name}");
    }
}
