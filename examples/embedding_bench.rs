//! `Embedding`'s lookup on float-coded token ids (the trainer's batches): the fused CPU op
//! against the path it replaced, on the same tensors: one training step's forward and backward
//! (`sum(y).backward()`), in `f32`.
//!
//! ```sh
//! cargo run --release --example embedding_bench
//! ```
//!
//! - fused: the ids checked on the host values they came from (as the trainer does, with no
//!   copy) and [`try_embedding_lookup`] on the float ids where they lie.
//! - before: the ids copied out of the tensor, checked and converted to `usize`, a new id tensor
//!   made from them, and dfdx's `gather` (the layer's forward until this op).
//!
//! Shapes: 256 sequences of 64 tokens from a 20,000-word vocabulary into 64-wide rows, and the
//! small text example's 32 × 12 into 16-wide rows of 64 words. Each case runs the two paths
//! alternately, 5 rounds of `reps` steps each after a warm-up, and prints the median
//! milliseconds per step of each and their ratio.

use keras::dfdx::prelude::*;
use keras::kernels::embedding::{first_bad_id, row_of, try_embedding_lookup};

#[path = "common/paired_timing.rs"]
mod paired_timing;

use paired_timing::{compare, logical_cpus};

fn lookup<const V: usize, const L: usize, const M: usize>(dev: &Cpu, batch: usize, reps: usize) {
    let table: Tensor<Rank2<V, M>, f32, _> = dev.sample_normal();
    // Deterministic ids over the whole vocabulary, with repeats.
    let host: Vec<f32> = (0..batch * L)
        .map(|i| ((i * 7_919 + i / 3) % V) as f32)
        .collect();
    let x: Tensor<(usize, Const<L>), f32, _> = dev.tensor_from_vec(host.clone(), (batch, Const));
    compare(
        &format!("Embedding({V}, {M}) on ({batch}, {L}) ids"),
        reps,
        || {
            assert!(first_bad_id(&host, V).is_none());
            let y = try_embedding_lookup(table.leaky_trace(), &x, (batch, Const::<L>, Const::<M>));
            let _ = y.unwrap().sum().backward();
        },
        "before",
        || {
            let ids: Vec<usize> = x
                .as_vec()
                .into_iter()
                .map(|v| row_of(v, V).unwrap_or(0))
                .collect();
            let ids: Tensor<(usize, Const<L>), usize, _> = dev.tensor_from_vec(ids, (batch, Const));
            let y = table.leaky_trace().gather(ids);
            let _ = y.sum().backward();
        },
    );
}

fn main() {
    let dev = Cpu::default();
    println!("{} logical CPUs; f32, forward and backward", logical_cpus());
    lookup::<20_000, 64, 64>(&dev, 256, 20);
    lookup::<64, 12, 16>(&dev, 32, 2_000);
}
