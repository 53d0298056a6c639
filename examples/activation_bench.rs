//! The element-wise activations' fused CPU op against the chains of dfdx's ops the layers were
//! before it, on the same tensors: one training step's forward and backward
//! (`sum(y).backward()`), in `f32`.
//!
//! ```sh
//! cargo run --release --example activation_bench
//! ```
//!
//! Shape: a `Dense(1024)` layer's output on a batch of 256 (W3's hidden width), `(256, 1024)`.
//! Each case runs the two alternately, 5 rounds of `reps` steps each after a warm-up, and
//! prints the median milliseconds per step of each and their ratio.

use keras::dfdx::prelude::*;
use keras::kernels::activation::{activation_with_ops, try_activation, Activation};

#[path = "common/paired_timing.rs"]
mod paired_timing;

use paired_timing::{compare, logical_cpus};

fn main() {
    let dev = Cpu::default();
    println!("{} logical CPUs; f32, forward and backward", logical_cpus());
    let x: Tensor<(usize, Const<1024>), f32, _> = dev.sample_normal_like(&(256, Const));
    for (name, f) in [
        ("ELU(1.0)", Activation::Elu { alpha: 1.0 }),
        (
            "LeakyReLU(0.3)",
            Activation::LeakyRelu {
                negative_slope: 0.3,
            },
        ),
        ("GELU", Activation::Gelu),
        ("swish", Activation::Swish),
        ("softplus", Activation::Softplus),
    ] {
        compare(
            &format!("{name} (256, 1024)"),
            50,
            || {
                let y = try_activation(x.leaky_trace(), f).unwrap();
                let _ = y.sum().backward();
            },
            "dfdx's ops",
            || {
                let y = activation_with_ops(x.leaky_trace(), f).unwrap();
                let _ = y.sum().backward();
            },
        );
    }
}
