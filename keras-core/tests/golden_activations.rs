//! Every case of `activations.json` (made by `make_activations.py` beside it with Keras
//! 3.15.1): `ELU`, `LeakyReLU` and `Activation("gelu" | "swish" | "silu" | "softplus")`, the
//! output and JAX's gradient of `sum(y * r)` with respect to the input, on
//! [`TestDevice`](common::TestDevice) in `f32`. The activations are element-wise, so each case
//! runs on its values flattened, whatever its shape.

mod common;

use common::{compare, load_cases, test_device, Case, Report, TestDevice, DEVICE_TOL_FACTOR};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Elu, Gelu, LeakyReLU, Softplus, Swish};

/// JAX and keras-rs compute each value with a few `f32` roundings (JAX's GELU through `erfc`,
/// keras-rs's through `1 + erf`): they agree to the README's tolerance for values of order one.
const TOL: f64 = 1e-5;

/// `inputs[name]` as `f32`, or an error naming it.
fn input(case: &Case, name: &str) -> Result<Vec<f32>, String> {
    case.inputs
        .get(name)
        .map(|a| a.f32())
        .ok_or_else(|| format!("no input `{name}`"))
}

/// `config[key]` as a number.
fn number(case: &Case, key: &str) -> Result<f64, String> {
    case.config[key]
        .as_f64()
        .ok_or_else(|| format!("config.{key} is not a number"))
}

/// Runs `layer` on the case's `x` and compares `y` and the gradient of `sum(y * r)`.
fn run<L>(case: &Case, layer: L) -> Result<(), String>
where
    L: Module<
        Tensor<(usize,), f32, TestDevice, OwnedTape<f32, TestDevice>>,
        Output = Tensor<(usize,), f32, TestDevice, OwnedTape<f32, TestDevice>>,
    >,
    L::Error: std::fmt::Debug,
{
    let dev = test_device(0);
    let (x, r) = (input(case, "x")?, input(case, "r")?);
    let n = x.len();
    let x: Tensor<(usize,), f32, TestDevice> = dev.tensor_from_vec(x, (n,));
    let r: Tensor<(usize,), f32, TestDevice> = dev.tensor_from_vec(r, (n,));
    let y = layer
        .try_forward(x.leaky_trace())
        .map_err(|e| format!("{e:?}"))?;
    let values = y.retaped::<NoneTape>().as_vec();
    let grads = (y * r).sum().backward();
    let tol = TOL * DEVICE_TOL_FACTOR;
    let want = |name: &str| {
        case.expected
            .get(name)
            .ok_or(format!("no expected `{name}`"))
    };
    compare(&values, want("y")?, tol).map_err(|m| format!("y: {m}"))?;
    compare(&grads.get(&x).as_vec(), want("dx")?, tol).map_err(|m| format!("dx: {m}"))
}

fn check(case: &Case) -> Result<(), String> {
    let e = |e: keras_core::Error| e.to_string();
    match case.config["class"].as_str() {
        Some("ELU") => run(case, Elu::new(number(case, "alpha")?).map_err(e)?),
        Some("LeakyReLU") => {
            let slope = number(case, "negative_slope")?;
            run(case, LeakyReLU::new(slope).map_err(e)?)
        }
        Some("Activation") => match case.config["activation"].as_str() {
            Some("gelu") => run(case, Gelu),
            Some("swish" | "silu") => run(case, Swish),
            Some("softplus") => run(case, Softplus),
            other => Err(format!("unhandled activation {other:?}")),
        },
        other => Err(format!("unhandled class {other:?}")),
    }
}

#[test]
fn every_keras_activation_case_matches() {
    let cases = load_cases("activations");
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, check(case));
    }
    report.finish(cases.len());
}
