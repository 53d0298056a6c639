//! `crossentropy.cu` run on the CPU by the emulation, through the plans of `launch.rs`, against
//! the CPU's op: the loss and the logits' gradient, which the backward adds to a gradient that
//! already holds values.

use dfdx::prelude::*;

use super::launch::{self, XentBuffers, BACKWARD, FORWARD, NAMES};
use crate::kernels::emulation::samples::{assert_close, Samples};
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::try_softmax_crossentropy;

/// One batch: `rows × K` logits, smoothed one-hot labels, maybe weights, the divisor.
#[derive(Debug, Clone)]
struct Case {
    x: Vec<f32>,
    t: Vec<f32>,
    w: Option<Vec<f32>>,
    divisor: f32,
}

/// The loss's gradient the backward starts from (a loss scale).
const UPSTREAM: f32 = 3.0;
/// What the logits' gradient holds before the backward adds to it.
const BEFORE: f32 = 0.5;

fn case<const K: usize>(rows: usize, weighted: bool, seed: u64) -> Case {
    let mut s = Samples::new(seed);
    let x = s.between(rows * K, -6.0, 6.0);
    let ids = s.ids(rows, K);
    let t = (0..rows * K)
        .map(|i| {
            let hot = (i % K) as f32 == ids[i / K];
            0.9 * f32::from(u8::from(hot)) + 0.1 / K as f32
        })
        .collect();
    let w = weighted.then(|| s.between(rows, 0.0, 2.0));
    let divisor = w.as_ref().map_or(rows as f32, |w| w.iter().sum());
    Case { x, t, w, divisor }
}

/// The CPU op: the loss and the logits' gradient of `UPSTREAM · loss`.
fn on_cpu<const K: usize>(c: &Case) -> (f32, Vec<f32>) {
    let dev = Cpu::default();
    let rows = c.x.len() / K;
    let x: Tensor<(usize, Const<K>), f32, _> = dev.tensor_from_vec(c.x.clone(), (rows, Const));
    let t = dev.tensor_from_vec(c.t.clone(), (rows, Const::<K>));
    let w = c.w.clone().map(|w| dev.tensor_from_vec(w, (rows,)));
    let loss = try_softmax_crossentropy(x.leaky_trace(), &t, w.as_ref(), c.divisor).unwrap();
    let value = loss.array();
    let mut grads = (loss * UPSTREAM).backward();
    (value, grads.get_or_alloc_mut(&x).unwrap().to_vec())
}

/// The kernels, emulated: the loss and what the backward added to the gradient.
fn emulated<const K: usize>(c: &Case) -> (f32, Vec<f32>) {
    let rows = c.x.len() / K;
    let mut stats = vec![f32::NAN; 2 * rows];
    let mut loss = [f32::NAN];
    let buffers = XentBuffers {
        rows,
        k: K,
        x: address(&c.x),
        t: address(&c.t),
        w: c.w.as_deref().map_or(0, address),
        divisor: c.divisor,
        stats: stats.as_mut_ptr() as u64,
    };
    let (shape, params) = launch::forward(buffers, loss.as_mut_ptr() as u64);
    // SAFETY: the kernel reads `rows × K` logits and labels and `rows` weights, and writes the
    // `2 × rows` statistics and the loss, all buffers above of those lengths.
    unsafe { launch(FORWARD, shape, &params) }.unwrap();
    let upstream = [UPSTREAM];
    let mut grad = vec![BEFORE; rows * K];
    let (shape, params) = launch::backward(buffers, address(&upstream), grad.as_mut_ptr() as u64);
    // SAFETY: as above, reading the statistics and the upstream gradient, adding to `grad`.
    unsafe { launch(BACKWARD, shape, &params) }.unwrap();
    (loss[0], grad.into_iter().map(|g| g - BEFORE).collect())
}

fn check<const K: usize>(what: &str, c: &Case) {
    let (want_loss, want_grad) = on_cpu::<K>(c);
    let (loss, grad) = emulated::<K>(c);
    assert_close(&format!("{what}: loss"), &[loss], &[want_loss], 1e-5);
    assert_close(&format!("{what}: gradient"), &grad, &want_grad, 1e-5);
    // Not vacuous: a gradient, except with one class (softmax 1, labels summing to 1) or none.
    assert!(want_grad.iter().any(|g| *g != 0.0) || c.divisor == 0.0 || K == 1);
}

#[test]
fn the_emulated_crossentropy_kernels_match_the_cpu_op() {
    for weighted in [false, true] {
        // One row; fewer rows than threads; more (several rows per thread, a ragged last pass).
        check::<3>("1 row", &case::<3>(1, weighted, 1));
        check::<10>("37 rows", &case::<10>(37, weighted, 2));
        check::<7>("600 rows", &case::<7>(600, weighted, 3));
        check::<1>("one class", &case::<1>(20, weighted, 4));
    }
}

#[test]
fn labels_that_do_not_sum_to_one_scale_the_softmax_in_the_gradient() {
    let mut s = Samples::new(8);
    let mut c = case::<6>(50, true, 9);
    c.t = s.between(50 * 6, 0.0, 1.0);
    check::<6>("free labels", &c);
}

#[test]
fn the_emulated_kernels_keep_keras_edge_cases() {
    // A zero divisor: loss 0 and gradient 0, also when the weighted rows do not sum to 0
    // (weights that cancel, Keras's divide_no_nan).
    let mut c = case::<4>(9, true, 5);
    c.w = Some(vec![1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 0.0, 0.25, -0.25]);
    c.divisor = 0.0;
    check::<4>("zero divisor", &c);
    let (loss, grad) = emulated::<4>(&c);
    assert_eq!(loss, 0.0);
    assert!(grad.iter().all(|g| *g == 0.0));
    // A NaN logit: the loss and its row's gradient are NaN, on both.
    let mut c = case::<4>(9, false, 6);
    c.x[13] = f32::NAN;
    check::<4>("NaN logit", &c);
    let (loss, grad) = emulated::<4>(&c);
    assert!(loss.is_nan());
    assert!(grad[12..16].iter().all(|g| g.is_nan()));
    assert!(grad[..12].iter().all(|g| g.is_finite()));
    // Logits far apart: no overflow.
    let mut c = case::<4>(2, false, 7);
    c.x = vec![1000.0, 0.0, -1000.0, 5.0, 80.0, 90.0, 100.0, -80.0];
    check::<4>("large logits", &c);
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
