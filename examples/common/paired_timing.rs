//! Timing two implementations of one step against each other in the micro-benchmark examples
//! (`normalization_bench`, `embedding_bench`): alternating rounds after a warm-up, medians.

use std::time::Instant;

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

/// Prints the median milliseconds per call of `new` and of `old` (named `old_name`), over
/// [`ROUNDS`] alternating rounds of `reps` calls each after one warm-up round each, and their
/// ratio (how many times faster `new` is).
pub fn compare(
    name: &str,
    reps: usize,
    mut new: impl FnMut(),
    old_name: &str,
    mut old: impl FnMut(),
) {
    time(reps, &mut new);
    time(reps, &mut old);
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        a.push(time(reps, &mut new));
        b.push(time(reps, &mut old));
    }
    let (a, b) = (median(a), median(b));
    println!(
        "{name}: fused {a:.3} ms, {old_name} {b:.3} ms per step: {:.2}x",
        b / a
    );
}

/// The logical CPUs (rayon's default thread count).
pub fn logical_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}
