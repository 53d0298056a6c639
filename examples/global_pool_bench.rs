//! The global average poolings' fused CPU op against dfdx's mean on the same tensors: one
//! training step's forward and backward (`sum(y).backward()`), in `f32`.
//!
//! ```sh
//! cargo run --release --example global_pool_bench
//! ```
//!
//! Shapes: a text head, 256 sequences of 64 steps of 64 channels (`GlobalAveragePooling1D`), and
//! a convnet head, 128 images of 7 × 7 pixels of 256 channels (`GlobalAveragePooling2D`). Each
//! case runs the two ops alternately, 5 rounds of `reps` steps each after a warm-up, and prints
//! the median milliseconds per step of each and their ratio.

use keras::dfdx::prelude::*;
use keras::kernels::global_pool::{global_avg_pool_with_ops, try_global_avg_pool};

#[path = "common/paired_timing.rs"]
mod paired_timing;

use paired_timing::{compare, logical_cpus};

fn pool<const C: usize>(dev: &Cpu, name: &str, batch: usize, steps: usize, reps: usize) {
    let x: Tensor<(usize, usize, Const<C>), f32, _> =
        dev.sample_normal_like(&(batch, steps, Const));
    compare(
        &format!("{name} on ({batch}, {steps}, {C})"),
        reps,
        || {
            let y = try_global_avg_pool(x.leaky_trace()).unwrap();
            let _ = y.sum().backward();
        },
        "dfdx's mean",
        || {
            let y = global_avg_pool_with_ops(x.leaky_trace()).unwrap();
            let _ = y.sum().backward();
        },
    );
}

fn main() {
    let dev = Cpu::default();
    println!("{} logical CPUs; f32, forward and backward", logical_cpus());
    pool::<64>(&dev, "GlobalAveragePooling1D", 256, 64, 50);
    pool::<256>(&dev, "GlobalAveragePooling2D", 128, 49, 50);
}
