//! `LayerNormalization`'s and `BatchNormalization`'s fused CPU ops against dfdx's ops on the
//! same tensors: one training step's forward and backward (`sum(y).backward()`), in `f32`.
//!
//! ```sh
//! cargo run --release --example normalization_bench
//! ```
//!
//! Shapes: a transformer-like `(256, 512)` batch for both; `BatchNormalization` also on a
//! convnet's activations, 128 images of 13 × 13 × 32 as `(21632, 32)` rows. Each case runs the
//! two ops alternately, `ROUNDS` rounds of `reps` steps each after a warm-up, and prints the
//! median milliseconds per step of each and their ratio.

use std::time::Instant;

use keras::dfdx::prelude::*;
use keras::kernels::{
    batch_norm_train_with_ops, layer_norm_with_ops, try_layer_norm, BatchNormKernel, Moving,
};

/// Rounds per case (the median is reported).
const ROUNDS: usize = 5;

/// The median of `v`.
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Milliseconds per call of `f`, over `reps` calls.
fn time(reps: usize, f: &mut impl FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() * 1e3 / reps as f64
}

/// Milliseconds per call of `fused` and of `with_ops`, alternating rounds of `reps` calls.
fn compare(name: &str, reps: usize, mut fused: impl FnMut(), mut with_ops: impl FnMut()) {
    time(reps, &mut fused);
    time(reps, &mut with_ops);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.push(time(reps, &mut fused));
        b.push(time(reps, &mut with_ops));
    }
    let (a, b) = (median(a), median(b));
    println!(
        "{name}: fused {a:.3} ms, dfdx's ops {b:.3} ms per step: {:.2}x",
        b / a
    );
}

fn layer_norm<const M: usize>(dev: &Cpu, rows: usize, reps: usize) {
    let x: Tensor<(usize, Const<M>), f32, _> = dev.sample_normal_like(&(rows, Const));
    let gamma: Tensor<Rank1<M>, f32, _> = dev.sample_normal();
    let beta: Tensor<Rank1<M>, f32, _> = dev.sample_normal();
    compare(
        &format!("LayerNormalization ({rows}, {M})"),
        reps,
        || {
            let y = try_layer_norm(x.leaky_trace(), &gamma, &beta, 1e-3).unwrap();
            let _ = y.sum().backward();
        },
        || {
            let y = layer_norm_with_ops(x.leaky_trace(), &gamma, &beta, 1e-3).unwrap();
            let _ = y.sum().backward();
        },
    );
}

fn batch_norm<const C: usize>(dev: &Cpu, rows: usize, reps: usize) {
    let x: Tensor<(usize, Const<C>), f32, _> = dev.sample_normal_like(&(rows, Const));
    let gamma: Tensor<Rank1<C>, f32, _> = dev.sample_normal();
    let beta: Tensor<Rank1<C>, f32, _> = dev.sample_normal();
    let mut mean: Tensor<Rank1<C>, f32, _> = dev.zeros();
    let mut variance: Tensor<Rank1<C>, f32, _> = dev.ones();
    let mut mean2 = mean.clone();
    let mut variance2 = variance.clone();
    compare(
        &format!("BatchNormalization, training ({rows}, {C})"),
        reps,
        || {
            let moving = Moving {
                mean: &mut mean,
                variance: &mut variance,
                momentum: 0.99,
            };
            let y = Cpu::try_batch_norm_train(x.leaky_trace(), &gamma, &beta, moving, 1e-3);
            let _ = y.unwrap().sum().backward();
        },
        || {
            let moving = Moving {
                mean: &mut mean2,
                variance: &mut variance2,
                momentum: 0.99,
            };
            let y = batch_norm_train_with_ops(x.leaky_trace(), &gamma, &beta, moving, 1e-3);
            let _ = y.unwrap().sum().backward();
        },
    );
}

fn main() {
    let dev = Cpu::default();
    println!("{} logical CPUs; f32, forward and backward", logical_cpus());
    layer_norm::<512>(&dev, 256, 100);
    batch_norm::<512>(&dev, 256, 100);
    batch_norm::<32>(&dev, 128 * 13 * 13, 10);
}

/// The logical CPUs (rayon's default thread count).
fn logical_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
