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
//! alternately, `ROUNDS` rounds of `reps` steps each after a warm-up, and prints the median
//! milliseconds per step of each and their ratio.

use std::time::Instant;

use keras::dfdx::prelude::*;
use keras::kernels::embedding::{first_bad_id, row_of, try_embedding_lookup};

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

/// Milliseconds per call of `fused` and of `before`, alternating rounds of `reps` calls.
fn compare(name: &str, reps: usize, mut fused: impl FnMut(), mut before: impl FnMut()) {
    time(reps, &mut fused);
    time(reps, &mut before);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.push(time(reps, &mut fused));
        b.push(time(reps, &mut before));
    }
    let (a, b) = (median(a), median(b));
    println!(
        "{name}: fused {a:.3} ms, before {b:.3} ms per step: {:.2}x",
        b / a
    );
}

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
    println!(
        "{} logical CPUs; f32, forward and backward",
        std::thread::available_parallelism().map_or(1, usize::from)
    );
    lookup::<20_000, 64, 64>(&dev, 256, 20);
    lookup::<64, 12, 16>(&dev, 32, 2_000);
}
