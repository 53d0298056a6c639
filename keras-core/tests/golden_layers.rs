//! Every case of `layers.json` (made by `make_layers.py` beside it with Keras 3.15.1): one
//! layer's output and its gradients (of `sum(y * r)`, with respect to the input and to each
//! trainable weight), and `BatchNormalization`'s moving statistics after a training call, for
//! `LayerNormalization`, `BatchNormalization`, `AveragePooling2D` and `MaxPooling2D`, on
//! [`TestDevice`](common::TestDevice) in `f32`.
//!
//! Shapes are types here, so each case is dispatched to a monomorphized run by its sizes: the
//! feature counts, sequence lengths and image geometries listed below. A case of another size
//! is a failure that names it (extend the lists), never a silent skip.

mod common;

use common::{compare, load_cases, test_device, Case, Report, TestDevice, DEVICE_TOL_FACTOR};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{AvgPool2D, BatchNormalization, LayerNormalization, MaxPool2D};

/// Keras reduces in `f32` in JAX's order, keras-rs in its own: the outputs and gradients agree
/// to a few `f32` roundings of values of order one (the README's `fit` tolerance for
/// histories).
const TOL: f64 = 1e-5;

/// The case's tolerance on this device: [`TOL`], or more for inputs far from zero compared with
/// their spread. A normalization subtracts a mean of the size of `max |x|`, known to `f32`'s
/// rounding of it, and divides by the spread, so both Keras's result and keras-rs's carry an
/// error of a few `f32::EPSILON · max |x| / std(x)` (measured against an `f64` computation:
/// Keras 1.1e-4 on `LayerNormalization/wide_offset`, keras-rs 3.6e-5; both 4e-5 or less on
/// `BatchNormalization/offset_training`).
fn tol(case: &Case) -> f64 {
    let x = case.inputs.get("x").map_or(&[][..], |a| &a.data[..]);
    let n = x.len().max(1) as f64;
    let mean = x.iter().sum::<f64>() / n;
    let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
    let largest = x.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let conditioning = if std > 0.0 { largest / std } else { 1.0 };
    TOL.max(4.0 * f64::from(f32::EPSILON) * conditioning) * DEVICE_TOL_FACTOR
}

type Dev = TestDevice;

/// `inputs[name]` as `f32`, or an error naming it.
fn input(case: &Case, name: &str) -> Result<Vec<f32>, String> {
    case.inputs
        .get(name)
        .map(|a| a.f32())
        .ok_or_else(|| format!("no input `{name}`"))
}

/// Compares `got` with `expected[name]`.
fn expect(case: &Case, name: &str, got: &[f32]) -> Result<(), String> {
    let want = case
        .expected
        .get(name)
        .ok_or_else(|| format!("no expected `{name}`"))?;
    compare(got, want, tol(case)).map_err(|m| format!("{name}: {m}"))
}

/// The shape of `inputs["x"]`.
fn x_shape(case: &Case) -> Result<Vec<usize>, String> {
    Ok(case.inputs.get("x").ok_or("no input `x`")?.shape.clone())
}

/// `config[key]` as a number.
fn number(case: &Case, key: &str) -> Result<f64, String> {
    case.config[key]
        .as_f64()
        .ok_or_else(|| format!("config.{key} is not a number"))
}

/// `config[key]` as a bool.
fn flag(case: &Case, key: &str) -> Result<bool, String> {
    case.config[key]
        .as_bool()
        .ok_or_else(|| format!("config.{key} is not a bool"))
}

/// Refuses a config this harness does not implement: the last axis only, with both the scale
/// and the offset.
fn plain_last_axis(case: &Case) -> Result<(), String> {
    if case.config["axis"].as_i64() != Some(-1) {
        return Err(format!("unhandled axis {}", case.config["axis"]));
    }
    if !flag(case, "center")? || !flag(case, "scale")? {
        return Err("unhandled center/scale off".into());
    }
    Ok(())
}

fn check(case: &Case) -> Result<(), String> {
    match case.config["class"].as_str() {
        Some("LayerNormalization") => layer_norm(case),
        Some("BatchNormalization") => batch_norm(case),
        Some("AveragePooling2D") => pooling(case, Pooling::Avg),
        Some("MaxPooling2D") => pooling(case, Pooling::Max),
        other => Err(format!("unhandled class {other:?}")),
    }
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization

fn layer_norm(case: &Case) -> Result<(), String> {
    plain_last_axis(case)?;
    if case.config["rms_scaling"].as_bool() != Some(false) {
        return Err("unhandled rms_scaling".into());
    }
    let shape = x_shape(case)?;
    let features = *shape.last().ok_or("x is a scalar")?;
    macro_rules! by_width {
        ($($m:literal)*) => {
            match features {
                $($m => layer_norm_run::<$m>(case, &shape),)*
                other => Err(format!("unhandled feature count {other}")),
            }
        };
    }
    by_width!(1 2 3 4 5 6 7 8 16 32 64)
}

fn layer_norm_run<const M: usize>(case: &Case, shape: &[usize]) -> Result<(), String> {
    let dev = test_device(0);
    let mut ln = dev.build_module::<LayerNormalization<M>, f32>();
    ln.epsilon = number(case, "epsilon")?;
    ln.set_weights(&input(case, "gamma")?, &input(case, "beta")?)
        .map_err(|e| e.to_string())?;
    let (x, r) = (input(case, "x")?, input(case, "r")?);
    let (y, grads, dx) = match *shape {
        [rows, _] => {
            let x: Tensor<(usize, Const<M>), f32, Dev> = dev.tensor_from_vec(x, (rows, Const));
            let r = dev.tensor_from_vec(r, (rows, Const));
            let y = ln.forward(x.leaky_trace());
            let out = y.as_vec();
            let grads = (y * r).sum().backward();
            let dx = grads.get(&x).as_vec();
            (out, grads, dx)
        }
        [batch, steps, _] => {
            let x: Tensor<(usize, usize, Const<M>), f32, Dev> =
                dev.tensor_from_vec(x, (batch, steps, Const));
            let r = dev.tensor_from_vec(r, (batch, steps, Const));
            let y = ln.forward(x.leaky_trace());
            let out = y.as_vec();
            let grads = (y * r).sum().backward();
            let dx = grads.get(&x).as_vec();
            (out, grads, dx)
        }
        _ => return Err(format!("unhandled input rank {}", shape.len())),
    };
    expect(case, "y", &y)?;
    expect(case, "dx", &dx)?;
    expect(case, "dgamma", &grads.get(&ln.gamma).as_vec())?;
    expect(case, "dbeta", &grads.get(&ln.beta).as_vec())
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization

fn batch_norm(case: &Case) -> Result<(), String> {
    plain_last_axis(case)?;
    let shape = x_shape(case)?;
    let channels = *shape.last().ok_or("x is a scalar")?;
    macro_rules! by_width {
        ($($c:literal)*) => {
            match channels {
                $($c => batch_norm_layout::<$c>(case, &shape),)*
                other => Err(format!("unhandled channel count {other}")),
            }
        };
    }
    by_width!(1 2 3 4 5 6 7 8)
}

/// Runs `$bn` on `$x` (a leaky-traced input): the training forward (`ModuleMut` on a tape) or
/// inference (`Module`), then checks the output and every gradient.
macro_rules! check_batch_norm {
    ($case:expr, $bn:expr, $x:expr, $r:expr, $training:expr) => {{
        let (case, bn, x, r) = ($case, $bn, $x, $r);
        let y = if $training {
            bn.forward_mut(x.leaky_trace())
        } else {
            bn.forward(x.leaky_trace())
        };
        expect(case, "y", &y.as_vec())?;
        let grads = (y * r).sum().backward();
        expect(case, "dx", &grads.get(&x).as_vec())?;
        expect(case, "dgamma", &grads.get(&bn.gamma).as_vec())?;
        expect(case, "dbeta", &grads.get(&bn.beta).as_vec())?;
    }};
}

fn batch_norm_layout<const C: usize>(case: &Case, shape: &[usize]) -> Result<(), String> {
    let dev = test_device(0);
    let mut bn = dev.build_module::<BatchNormalization<C>, f32>();
    bn.momentum = number(case, "momentum")?;
    bn.epsilon = number(case, "epsilon")?;
    bn.set_weights(
        &input(case, "gamma")?,
        &input(case, "beta")?,
        &input(case, "moving_mean")?,
        &input(case, "moving_variance")?,
    )
    .map_err(|e| e.to_string())?;
    let training = flag(case, "training")?;
    let (x, r) = (input(case, "x")?, input(case, "r")?);
    match *shape {
        [rows, _] => {
            let x: Tensor<(usize, Const<C>), f32, Dev> = dev.tensor_from_vec(x, (rows, Const));
            let r = dev.tensor_from_vec(r, (rows, Const));
            check_batch_norm!(case, &mut bn, x, r, training);
        }
        [batch, steps, _] => {
            macro_rules! by_steps {
                ($($l:literal)*) => {
                    match steps {
                        $($l => {
                            let x: Tensor<(usize, Const<$l>, Const<C>), f32, Dev> =
                                dev.tensor_from_vec(x, (batch, Const, Const));
                            let r = dev.tensor_from_vec(r, (batch, Const, Const));
                            check_batch_norm!(case, &mut bn, x, r, training);
                        })*
                        other => return Err(format!("unhandled sequence length {other}")),
                    }
                };
            }
            by_steps!(1 2 3 4 5 6);
        }
        [batch, h, w, _] if h == w => {
            macro_rules! by_side {
                ($($s:literal)*) => {
                    match h {
                        $($s => {
                            let x: Tensor<(usize, Const<$s>, Const<$s>, Const<C>), f32, Dev> =
                                dev.tensor_from_vec(x, (batch, Const, Const, Const));
                            let r = dev.tensor_from_vec(r, (batch, Const, Const, Const));
                            check_batch_norm!(case, &mut bn, x, r, training);
                        })*
                        other => return Err(format!("unhandled image side {other}")),
                    }
                };
            }
            by_side!(1 2 3 4);
        }
        _ => return Err(format!("unhandled input shape {shape:?}")),
    }
    expect(case, "moving_mean", &bn.moving_mean.as_vec())?;
    expect(case, "moving_variance", &bn.moving_variance.as_vec())
}

// ---------------------------------------------------------------------------------------------
// AveragePooling2D and MaxPooling2D

/// A pooling layer.
#[derive(Debug, Clone, Copy)]
enum Pooling {
    Avg,
    Max,
}

fn pooling(case: &Case, pooling: Pooling) -> Result<(), String> {
    if case.config["padding"].as_str() != Some("valid")
        || case.config["data_format"].as_str() != Some("channels_last")
    {
        return Err("unhandled padding or data format".into());
    }
    let square = |key: &str| -> Result<usize, String> {
        match case.config[key].as_array().map(Vec::as_slice) {
            Some([a, b]) if a == b => a
                .as_u64()
                .map(|v| v as usize)
                .ok_or_else(|| format!("config.{key}")),
            _ => Err(format!("unhandled config.{key} {}", case.config[key])),
        }
    };
    let (k, s) = (square("pool_size")?, square("strides")?);
    let shape = x_shape(case)?;
    let [batch, h, w, c] = *shape.as_slice() else {
        return Err(format!("unhandled input shape {shape:?}"));
    };
    // (H, W, K, S) the harness is compiled for, each with the channel counts below.
    macro_rules! geometries {
        ($(($h:literal, $w:literal, $k:literal, $s:literal))*) => {
            match (h, w, k, s) {
                $(($h, $w, $k, $s) => by_channels!($h, $w, $k, $s),)*
                _ => Err(format!("unhandled geometry {h}x{w} pool {k} strides {s}")),
            }
        };
    }
    macro_rules! by_channels {
        ($h:literal, $w:literal, $k:literal, $s:literal) => {
            by_channels!($h, $w, $k, $s; 1 2 3 4 17)
        };
        ($h:literal, $w:literal, $k:literal, $s:literal; $($c:literal)*) => {
            match c {
                $($c => pool_run::<
                    $h, $w, $c, $k, $s, { ($h - $k) / $s + 1 }, { ($w - $k) / $s + 1 },
                >(case, pooling, batch),)*
                other => Err(format!("unhandled channel count {other}")),
            }
        };
    }
    geometries!((4, 4, 2, 2)(5, 6, 3, 2)(5, 5, 2, 1)(3, 3, 3, 3)(5, 5, 2, 2)(6, 5, 3, 1))
}

fn pool_run<
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
>(
    case: &Case,
    pooling: Pooling,
    batch: usize,
) -> Result<(), String> {
    let dev = test_device(0);
    let x: Tensor<(usize, Const<H>, Const<W>, Const<C>), f32, Dev> =
        dev.tensor_from_vec(input(case, "x")?, (batch, Const, Const, Const));
    let r: Tensor<(usize, Const<OH>, Const<OW>, Const<C>), f32, Dev> =
        dev.tensor_from_vec(input(case, "r")?, (batch, Const, Const, Const));
    let y = match pooling {
        Pooling::Avg => AvgPool2D::<K, OH, OW, S>.forward(x.leaky_trace()),
        Pooling::Max => MaxPool2D::<K, OH, OW, S>.forward(x.leaky_trace()),
    };
    expect(case, "y", &y.as_vec())?;
    let grads = (y * r).sum().backward();
    expect(case, "dx", &grads.get(&x).as_vec())
}

#[test]
fn every_keras_layer_case_matches_in_output_and_gradients() {
    let cases = load_cases("layers");
    assert!(!cases.is_empty());
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, check(case));
    }
    report.finish(cases.len());
}
