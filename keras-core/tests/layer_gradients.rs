//! Every layer's gradients (w.r.t. its input and each parameter) against central finite
//! differences, in f64. The objective is `sum(y * r)` with a fixed random `r`, so every output
//! element (and, for softmax and normalisations, their coupling) is exercised. On
//! [`TestDevice`](common::TestDevice): `Cpu`, or `Cuda` with the `cuda` feature.

mod common;

use common::TestDevice;

use keras_core::dfdx::prelude::*;
use keras_core::layers::{
    AvgPool2D, BatchNormalization, Conv2D, Dense, Dropout, Elu, Embedding, Flatten, Gelu,
    GlobalAveragePooling2D, LayerNormalization, LeakyReLU, Linear, MaxPool2D, ReLU, Sigmoid,
    Softmax, Softplus, Swish, Tanh,
};

type Tp = OwnedTape<f64, TestDevice>;
type Traced<S> = Tensor<S, f64, TestDevice, Tp>;

const STEP: f64 = 1e-6;
const TOL: f64 = 1e-6;

/// `sum(y * r)` and its gradients.
fn objective<O: Shape>(
    y: Traced<O>,
    r: &Tensor<O, f64, TestDevice>,
) -> (f64, Gradients<f64, TestDevice>) {
    let loss = (y * r.clone()).sum::<Rank0, _>();
    (loss.array(), loss.backward())
}

/// A fixed random weighting of the output of `run`.
fn output_weights<O: Shape>(y: Traced<O>) -> Tensor<O, f64, TestDevice> {
    let dev = TestDevice::seed_from_u64(99);
    dev.sample_normal_like(y.shape())
}

fn assert_close(label: &str, analytic: &[f64], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len(), "{label}: gradient length");
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (a - n).abs() <= TOL * n.abs().max(1.0),
            "{label}[{i}]: analytic {a} vs finite difference {n}"
        );
    }
}

/// Central differences w.r.t. the input `x`.
fn check_input<M: Clone, S: Shape, O: Shape>(
    label: &str,
    model: &M,
    x: &Tensor<S, f64, TestDevice>,
    forward: impl Fn(&mut M, Traced<S>) -> Traced<O>,
) {
    let r = output_weights(forward(&mut model.clone(), x.leaky_trace()));
    let (_, grads) = objective(forward(&mut model.clone(), x.leaky_trace()), &r);
    let analytic = grads.get(x).as_vec();
    let numeric = input_differences(model, x, &r, forward);
    assert_close(&format!("{label} d/dx"), &analytic, &numeric);
}

/// Central differences of `sum(forward(x) * r)` w.r.t. each element of `x`.
fn input_differences<M: Clone, S: Shape, O: Shape>(
    model: &M,
    x: &Tensor<S, f64, TestDevice>,
    r: &Tensor<O, f64, TestDevice>,
    forward: impl Fn(&mut M, Traced<S>) -> Traced<O>,
) -> Vec<f64> {
    let base = x.as_vec();
    (0..base.len())
        .map(|i| {
            let at = |delta: f64| {
                let mut v = base.clone();
                v[i] += delta;
                let xi = x.device().tensor_from_vec(v, *x.shape());
                objective(forward(&mut model.clone(), xi.leaky_trace()), r).0
            };
            (at(STEP) - at(-STEP)) / (2.0 * STEP)
        })
        .collect()
}

/// Central differences w.r.t. the parameter `get` selects; `run` is the whole forward.
fn check_param<M: Clone, O: Shape, P: Shape>(
    label: &str,
    model: &M,
    run: impl Fn(&mut M) -> Traced<O>,
    get: impl Fn(&mut M) -> &mut Tensor<P, f64, TestDevice>,
) {
    let r = output_weights(run(&mut model.clone()));
    let (_, grads) = objective(run(&mut model.clone()), &r);
    let analytic = grads.get(get(&mut model.clone())).as_vec();
    let numeric = param_differences(model, &r, run, get);
    assert_close(
        &format!("{label} d/d{}", std::any::type_name::<P>()),
        &analytic,
        &numeric,
    );
}

/// Central differences of `sum(run(model) * r)` w.r.t. each element of the parameter `get`
/// selects.
fn param_differences<M: Clone, O: Shape, P: Shape>(
    model: &M,
    r: &Tensor<O, f64, TestDevice>,
    run: impl Fn(&mut M) -> Traced<O>,
    get: impl Fn(&mut M) -> &mut Tensor<P, f64, TestDevice>,
) -> Vec<f64> {
    let base = get(&mut model.clone()).as_vec();
    (0..base.len())
        .map(|i| {
            let at = |delta: f64| {
                let mut m = model.clone();
                let mut v = base.clone();
                v[i] += delta;
                get(&mut m).copy_from(&v);
                objective(run(&mut m), r).0
            };
            (at(STEP) - at(-STEP)) / (2.0 * STEP)
        })
        .collect()
}

fn batch<const F: usize>(dev: &TestDevice, n: usize) -> Tensor<(usize, Const<F>), f64, TestDevice> {
    dev.sample_normal_like(&(n, Const))
}

fn image<const H: usize, const W: usize, const C: usize>(
    dev: &TestDevice,
    n: usize,
) -> Tensor<(usize, Const<H>, Const<W>, Const<C>), f64, TestDevice> {
    dev.sample_normal_like(&(n, Const, Const, Const))
}

/// Input, kernel and bias gradients of `Dense<3, 4, A>` on a batch of 5.
macro_rules! check_dense {
    ($($act:ty),+) => {$({
        let dev = TestDevice::seed_from_u64(1);
        let mut d = dev.build_module::<Dense<3, 4, $act>, f64>();
        d.bias = dev.sample_normal();
        let x = batch::<3>(&dev, 5);
        let label = concat!("Dense<3, 4, ", stringify!($act), ">");
        check_input(label, &d, &x, |m, x| m.forward_mut(x));
        check_param(label, &d, |m| m.forward_mut(x.leaky_trace()), |m| &mut m.kernel);
        check_param(label, &d, |m| m.forward_mut(x.leaky_trace()), |m| &mut m.bias);
    })+};
}

#[test]
fn dense_gradients_match_finite_differences_for_every_activation() {
    check_dense!(Linear, ReLU, Sigmoid, Tanh, Softmax, Gelu, Softplus, Swish, LeakyReLU, Elu);
}

#[test]
fn dense_gradients_match_finite_differences_on_sequences() {
    let dev = TestDevice::seed_from_u64(2);
    let d = dev.build_module::<Dense<3, 2, Tanh>, f64>();
    let x: Tensor<(usize, usize, Const<3>), f64, TestDevice> =
        dev.sample_normal_like(&(2, 3, Const));
    check_input("Dense on (batch, steps, 3)", &d, &x, |m, x| m.forward(x));
    check_param(
        "Dense seq",
        &d,
        |m| m.forward(x.leaky_trace()),
        |m| &mut m.kernel,
    );
}

macro_rules! check_activation {
    ($($act:expr),+) => {$({
        let dev = TestDevice::seed_from_u64(3);
        let x = batch::<6>(&dev, 4);
        check_input(stringify!($act), &$act, &x, |m, x| m.forward(x));
    })+};
}

#[test]
fn activation_gradients_match_finite_differences() {
    check_activation!(
        Linear,
        ReLU,
        Sigmoid,
        Tanh,
        Softmax,
        Gelu,
        Softplus,
        Swish,
        LeakyReLU::default(),
        Elu::new(0.7).unwrap()
    );
}

#[test]
fn flatten_gradient_is_the_reshaped_upstream_gradient() {
    let dev = TestDevice::seed_from_u64(4);
    let x = image::<2, 3, 2>(&dev, 3);
    check_input("Flatten<12>", &Flatten::<12>, &x, |m, x| m.forward(x));
}

#[test]
fn dropout_gradient_is_its_mask_scaled_by_one_over_keep_probability() {
    let dev = TestDevice::seed_from_u64(5);
    let x: Tensor<Rank1<200>, f64, TestDevice> = dev.sample_normal();
    let mut dropout = Dropout::new(0.25).unwrap();
    let y = dropout.forward_mut(x.leaky_trace());
    let out = y.as_vec();
    let grads = y.sum::<Rank0, _>().backward();
    let g = grads.get(&x).as_vec();
    let xs = x.as_vec();
    let mut dropped = 0;
    for i in 0..200 {
        if out[i] == 0.0 {
            dropped += 1;
            assert_eq!(g[i], 0.0);
        } else {
            assert!((out[i] - xs[i] / 0.75).abs() < 1e-12);
            assert!((g[i] - 1.0 / 0.75).abs() < 1e-12);
        }
    }
    assert!(
        (25..=75).contains(&dropped),
        "{dropped} of 200 dropped at rate 0.25"
    );
}

#[test]
fn batch_normalization_training_gradients_match_finite_differences() {
    let dev = TestDevice::seed_from_u64(6);
    let mut bn = dev.build_module::<BatchNormalization<3>, f64>();
    bn.gamma = dev.sample_normal();
    bn.beta = dev.sample_normal();
    let x = batch::<3>(&dev, 6);
    check_input("BatchNormalization train", &bn, &x, |m, x| m.forward_mut(x));
    check_param(
        "BN train",
        &bn,
        |m| m.forward_mut(x.leaky_trace()),
        |m| &mut m.gamma,
    );
    check_param(
        "BN train",
        &bn,
        |m| m.forward_mut(x.leaky_trace()),
        |m| &mut m.beta,
    );
    let img = image::<2, 2, 3>(&dev, 2);
    check_input("BatchNormalization train on images", &bn, &img, |m, x| {
        m.forward_mut(x)
    });
}

#[test]
fn batch_normalization_inference_gradients_match_finite_differences() {
    let dev = TestDevice::seed_from_u64(7);
    let mut bn = dev.build_module::<BatchNormalization<3>, f64>();
    bn.set_weights(
        &[1.5, -0.5, 2.0],
        &[0.1, 0.2, 0.3],
        &[0.5, -1.0, 0.0],
        &[2.0, 0.5, 1.0],
    )
    .unwrap();
    let x = batch::<3>(&dev, 4);
    check_input("BatchNormalization inference", &bn, &x, |m, x| m.forward(x));
    check_param(
        "BN inference",
        &bn,
        |m| m.forward(x.leaky_trace()),
        |m| &mut m.gamma,
    );
    check_param(
        "BN inference",
        &bn,
        |m| m.forward(x.leaky_trace()),
        |m| &mut m.beta,
    );
}

#[test]
fn layer_normalization_gradients_match_finite_differences() {
    let dev = TestDevice::seed_from_u64(8);
    let mut ln = dev.build_module::<LayerNormalization<4>, f64>();
    ln.gamma = dev.sample_normal();
    ln.beta = dev.sample_normal();
    let x = batch::<4>(&dev, 3);
    check_input("LayerNormalization", &ln, &x, |m, x| m.forward(x));
    check_param("LN", &ln, |m| m.forward(x.leaky_trace()), |m| &mut m.gamma);
    check_param("LN", &ln, |m| m.forward(x.leaky_trace()), |m| &mut m.beta);
}

#[test]
fn embedding_gradients_match_finite_differences() {
    let dev = TestDevice::seed_from_u64(9);
    let emb = dev.build_module::<Embedding<5, 3>, f64>();
    let ids: Tensor<(usize, Const<4>), usize, TestDevice> =
        dev.tensor_from_vec(vec![0, 4, 4, 2, 1, 0, 3, 4], (2, Const));
    let run = |m: &mut Embedding<5, 3, f64, TestDevice>| {
        m.forward(Trace::<f64, TestDevice>::leaky_trace(&ids))
    };
    check_param("Embedding", &emb, run, |m| &mut m.embeddings);
}

#[test]
fn conv2d_gradients_match_finite_differences_with_stride_and_padding() {
    let dev = TestDevice::seed_from_u64(10);
    let mut conv = dev.build_module::<Conv2D<2, 3, 3, 3, 3, 2, 1, Tanh>, f64>();
    conv.bias = dev.sample_normal();
    let x = image::<5, 5, 2>(&dev, 2);
    check_input("Conv2D", &conv, &x, |m, x| m.forward(x));
    check_param(
        "Conv2D",
        &conv,
        |m| m.forward(x.leaky_trace()),
        |m| &mut m.kernel,
    );
    check_param(
        "Conv2D",
        &conv,
        |m| m.forward(x.leaky_trace()),
        |m| &mut m.bias,
    );
    let valid = dev.build_module::<Conv2D<2, 2, 2, 4, 4>, f64>();
    check_input("Conv2D valid", &valid, &x, |m, x| m.forward(x));
    check_param(
        "Conv2D valid",
        &valid,
        |m| m.forward(x.leaky_trace()),
        |m| &mut m.kernel,
    );
}

#[test]
fn pooling_gradients_match_finite_differences() {
    let dev = TestDevice::seed_from_u64(11);
    let x = image::<4, 4, 2>(&dev, 2);
    check_input("MaxPool2D<2>", &MaxPool2D::<2, 2, 2>, &x, |m, x| {
        m.forward(x)
    });
    check_input("MaxPool2D<3, s1>", &MaxPool2D::<3, 2, 2, 1>, &x, |m, x| {
        m.forward(x)
    });
    check_input("AvgPool2D<2>", &AvgPool2D::<2, 2, 2>, &x, |m, x| {
        m.forward(x)
    });
    check_input("AvgPool2D<3, s1>", &AvgPool2D::<3, 2, 2, 1>, &x, |m, x| {
        m.forward(x)
    });
    check_input(
        "GlobalAveragePooling2D",
        &GlobalAveragePooling2D,
        &x,
        |m, x| m.forward(x),
    );
}

/// `t` in `f32` (its values rounded).
fn to_f32<S: Shape>(t: &Tensor<S, f64, TestDevice>) -> Tensor<S, f32, TestDevice> {
    let v = t.as_vec().into_iter().map(|v| v as f32).collect();
    t.device().tensor_from_vec(v, *t.shape())
}

/// `t` rounded to `f32` and back: values both dtypes hold exactly.
fn rounded<S: Shape>(t: &Tensor<S, f64, TestDevice>) -> Tensor<S, f64, TestDevice> {
    let v = to_f32(t).as_vec().into_iter().map(f64::from).collect();
    t.device().tensor_from_vec(v, *t.shape())
}

/// An `f32` gradient (the `f32` kernels: on `Cpu` and `Cuda` the fused convolution and pooling
/// ops) against the `f64` central differences of the same function: `f32` sums over a few dozen
/// terms, so a relative tolerance of 1e-4.
fn assert_close_f32(label: &str, analytic: &[f32], numeric: &[f64]) {
    assert_eq!(analytic.len(), numeric.len(), "{label}: gradient length");
    assert!(numeric.iter().any(|n| n.abs() > 1e-3), "{label}: all zero");
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        assert!(
            (f64::from(*a) - n).abs() <= 1e-4 * n.abs().max(1.0),
            "{label}[{i}]: analytic (f32) {a} vs finite difference (f64) {n}"
        );
    }
}

/// Input, kernel and bias gradients of `Conv2D` config `$conv` in `f32` on a batch of two
/// `$h x $w x $c` images against `f64` finite differences of the same layer (the same
/// `f32`-exact weights, input and output weighting).
macro_rules! check_conv_f32 {
    ($dev:expr, $label:expr, $conv:ty, $h:literal, $w:literal, $c:literal) => {{
        let dev = $dev;
        let mut c64 = dev.build_module::<$conv, f64>();
        c64.bias = dev.sample_normal();
        let kernel: Vec<f32> = to_f32(&c64.kernel).as_vec();
        let bias: Vec<f32> = to_f32(&c64.bias).as_vec();
        c64.set_weights(&kernel, &bias).unwrap();
        let mut c32 = dev.build_module::<$conv, f32>();
        c32.set_weights(&kernel, &bias).unwrap();
        let x = rounded(&image::<$h, $w, $c>(&dev, 2));
        let r = rounded(&output_weights(c64.forward(x.leaky_trace())));
        let (x32, r32) = (to_f32(&x), to_f32(&r));
        let grads = (c32.forward(x32.leaky_trace()) * r32).sum().backward();
        let numeric = input_differences(&c64, &x, &r, |m, x| m.forward(x));
        assert_close_f32(
            &format!("{} d/dx", $label),
            &grads.get(&x32).as_vec(),
            &numeric,
        );
        let run =
            |m: &mut <$conv as BuildOnDevice<TestDevice, f64>>::Built| m.forward(x.leaky_trace());
        let numeric = param_differences(&c64, &r, run, |m| &mut m.kernel);
        let analytic = grads.get(&c32.kernel).as_vec();
        assert_close_f32(&format!("{} d/dkernel", $label), &analytic, &numeric);
        let numeric = param_differences(&c64, &r, run, |m| &mut m.bias);
        let analytic = grads.get(&c32.bias).as_vec();
        assert_close_f32(&format!("{} d/dbias", $label), &analytic, &numeric);
    }};
}

#[test]
fn f32_conv2d_gradients_match_finite_differences_on_both_cpu_paths() {
    let dev = TestDevice::seed_from_u64(12);
    // Windows of 3 * 3 * 2 = 18 values: packed (im2col) into the product.
    check_conv_f32!(
        dev.clone(),
        "Conv2D packed, ReLU",
        Conv2D<2, 3, 3, 3, 3, 1, 0, ReLU>,
        5,
        5,
        2
    );
    check_conv_f32!(
        dev.clone(),
        "Conv2D packed, stride 2, padding 1",
        Conv2D<2, 3, 3, 3, 3, 2, 1, Linear>,
        5,
        5,
        2
    );
    // Windows of 3 * 3 * 1 = 9 values: accumulated directly.
    check_conv_f32!(
        dev.clone(),
        "Conv2D direct, ReLU",
        Conv2D<1, 4, 3, 3, 3, 1, 0, ReLU>,
        5,
        5,
        1
    );
    check_conv_f32!(
        dev,
        "Conv2D direct, stride 2, padding 1",
        Conv2D<1, 4, 3, 3, 3, 2, 1, Linear>,
        5,
        5,
        1
    );
}

#[test]
fn f32_pooling_gradients_match_finite_differences() {
    let dev = TestDevice::seed_from_u64(13);
    let x = rounded(&image::<5, 5, 3>(&dev, 2));
    let x32 = to_f32(&x);
    macro_rules! check {
        ($label:expr, $pool:expr) => {{
            let pool = $pool;
            let r = rounded(&output_weights(pool.forward(x.leaky_trace())));
            let grads = (pool.forward(x32.leaky_trace()) * to_f32(&r))
                .sum()
                .backward();
            let numeric = input_differences(&pool, &x, &r, |m, x| m.forward(x));
            assert_close_f32($label, &grads.get(&x32).as_vec(), &numeric);
        }};
    }
    check!("MaxPool2D<2>", MaxPool2D::<2, 2, 2>);
    check!("MaxPool2D<3, s1>", MaxPool2D::<3, 3, 3, 1>);
    check!("MaxPool2D<2, s1>", MaxPool2D::<2, 4, 4, 1>);
    check!("AvgPool2D<2>", AvgPool2D::<2, 2, 2>);
    check!("AvgPool2D<3, s1>", AvgPool2D::<3, 3, 3, 1>);
    check!("AvgPool2D<2, s1>", AvgPool2D::<2, 4, 4, 1>);
}
