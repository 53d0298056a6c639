//! Every case of `normalization.json` (made by `make_normalization.py` beside it with Keras
//! 3.15.1): `layers.Normalization` adapted on an array or given its statistics, with and
//! without `invert`, applied on [`TestDevice`](common::TestDevice).

mod common;

use common::{compare, load_cases, test_device, Case, Report, TestDevice, DEVICE_TOL_FACTOR};
use keras_core::data::ArrayDataset;
use keras_core::dfdx::prelude::*;
use keras_core::layers::Normalization;

/// Keras adapts in `f32` (JAX's reductions); the layer sums in `f64`: the statistics agree to
/// `f32` rounding of the data's spread, the outputs to the README's tolerance.
const TOL: f64 = 1e-5;

fn run<const C: usize, const INVERT: bool>(case: &Case) -> Result<(), String> {
    let dev = test_device(0);
    let e = |e: keras_core::Error| e.to_string();
    let mut layer = dev.build_module::<Normalization<C, f32, TestDevice, INVERT>, f32>();
    let adapted = case.config["adapted"]
        .as_bool()
        .ok_or("config.adapted is not a bool")?;
    if adapted {
        let data =
            ArrayDataset::<Rank1<C>, _>::features(case.inputs["adapt_data"].f32()).map_err(e)?;
        layer.adapt(&data).map_err(e)?;
    } else {
        layer
            .set_weights(&case.inputs["mean"].f32(), &case.inputs["variance"].f32())
            .map_err(e)?;
    }
    let tol = TOL * DEVICE_TOL_FACTOR;
    compare(&layer.mean.as_vec(), &case.expected["mean"], tol).map_err(|m| format!("mean: {m}"))?;
    compare(&layer.variance.as_vec(), &case.expected["variance"], tol)
        .map_err(|m| format!("variance: {m}"))?;
    let x = case.inputs["x"].f32();
    let rows = x.len() / C;
    let x: Tensor<(usize, Const<C>), f32, TestDevice> = dev.tensor_from_vec(x, (rows, Const));
    compare(&layer.forward(x).as_vec(), &case.expected["y"], tol).map_err(|m| format!("y: {m}"))
}

/// Dispatches on the case's feature count (any from 1 to 8) and `invert`.
fn check(case: &Case) -> Result<(), String> {
    if case.config["axis"].as_i64() != Some(-1) {
        return Err(format!("unhandled axis {}", case.config["axis"]));
    }
    let invert = case.config["invert"].as_bool().ok_or("config.invert")?;
    let features = case.config["features"].as_u64().ok_or("config.features")?;
    macro_rules! by_width {
        ($($c:literal)*) => {
            match (features, invert) {
                $(($c, false) => run::<$c, false>(case), ($c, true) => run::<$c, true>(case),)*
                (other, _) => Err(format!("unhandled feature count {other}")),
            }
        };
    }
    by_width!(1 2 3 4 5 6 7 8)
}

#[test]
fn every_keras_normalization_case_matches() {
    let cases = load_cases("normalization");
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, check(case));
    }
    report.finish(cases.len());
}
