//! `LayerNormalization`'s, `BatchNormalization`'s and `Normalization`'s fused CPU ops against
//! dfdx's ops on the same tensors: one training step's forward and backward
//! (`sum(y).backward()`), in `f32`.
//!
//! ```sh
//! cargo run --release --example normalization_bench
//! ```
//!
//! Shapes: a transformer-like `(256, 512)` batch for both; `BatchNormalization` also on a
//! convnet's activations, 128 images of 13 × 13 × 32 as `(21632, 32)` rows. `Normalization`
//! (the preprocessing layer) on W1's `(128, 784)` batch and on `(4096, 16)` tabular rows, as a
//! model's first layer (the batch marked as data: no input gradient) and inside a model (the
//! input's gradient computed); its baseline is dfdx's ops without the statistics' gradients,
//! which the layer computed too before the fused op. Each case runs the
//! two ops alternately, 5 rounds of `reps` steps each after a warm-up, and prints the
//! median milliseconds per step of each and their ratio.

use keras::dfdx::prelude::*;
use keras::kernels::normalize::{normalize_with_ops, try_normalize};
use keras::kernels::{
    batch_norm_train_with_ops, layer_norm_with_ops, mark_data_input, try_layer_norm,
    BatchNormKernel, Moving,
};

#[path = "common/paired_timing.rs"]
mod paired_timing;

use paired_timing::{compare, logical_cpus};

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
        "dfdx's ops",
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
        "dfdx's ops",
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

fn normalization<const C: usize>(dev: &Cpu, rows: usize, reps: usize, first_layer: bool) {
    let x: Tensor<(usize, Const<C>), f32, _> = dev.sample_normal_like(&(rows, Const));
    let mean: Tensor<Rank1<C>, f32, _> = dev.sample_normal();
    let variance: Tensor<Rank1<C>, f32, _> = dev.sample_uniform();
    // A fresh tape per step, the batch marked as the trainer marks it.
    let traced = || {
        let mut grads = Gradients::leaky();
        if first_layer {
            mark_data_input(&mut grads, &x);
        }
        x.trace(grads)
    };
    let place = if first_layer { "first layer" } else { "inside" };
    compare(
        &format!("Normalization, {place} ({rows}, {C})"),
        reps,
        || {
            let y = try_normalize::<C, false, _, _, _>(traced(), &mean, &variance).unwrap();
            let _ = y.sum().backward();
        },
        "dfdx's ops",
        || {
            let y = normalize_with_ops::<C, false, _, _, _>(traced(), &mean, &variance).unwrap();
            let _ = y.sum().backward();
        },
    );
}

fn main() {
    let dev = Cpu::default();
    println!("{} logical CPUs; f32, forward and backward", logical_cpus());
    layer_norm::<512>(&dev, 256, 100);
    batch_norm::<512>(&dev, 256, 100);
    batch_norm::<32>(&dev, 128 * 13 * 13, 10);
    for first_layer in [true, false] {
        normalization::<784>(&dev, 128, 200, first_layer);
        normalization::<16>(&dev, 4096, 200, first_layer);
    }
}
