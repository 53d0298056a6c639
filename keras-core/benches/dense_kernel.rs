//! The fused `f32` Dense kernel on `Cpu` against dfdx's ops (its matmul runs `gemm` 0.15's AVX2
//! kernels on stable), on the shapes of the training benchmark (W1 784→256→128→10 batch 128,
//! W3 1024→1024→1024→10 batch 256):
//!
//! 1. GEMM alone: GFLOP/s of `keras_core::kernels::matmul` for each product a Dense layer runs
//!    (forward `x·W`, kernel gradient `xᵀ·g`, input gradient `g·Wᵀ`), and of dfdx's `matmul` on
//!    the forward shape; plus the 1024³ ceiling.
//! 2. A training forward + backward of the whole MLP (no optimizer): keras-rs `Dense` layers
//!    (fused op) against the same layers through dfdx's ops (`dense_with_ops`), as samples/s.
//!
//! Rounds alternate between the two sides so that load from other processes hits both alike;
//! the best (min) and median round are reported. Run with
//! `cargo bench -p keras-core --bench dense_kernel` (`RAYON_NUM_THREADS` sets the threads; the
//! main thread joins rayon's pool through `use_current_thread_in_pool` unless
//! `RAYON_POOL=default`).

use std::time::Instant;

use dfdx::prelude::*;
use keras_core::kernels::{dense_with_ops, mark_data_input, matmul, Epilogue, MatRef};
use keras_core::layers::{Dense, Linear as KLinear, ReLU};

const ROUNDS: usize = 15;

/// On-CPU seconds of all of this process's threads (`/proc/self/task/*/schedstat`, in ns).
fn cpu_secs() -> f64 {
    let ns: u64 = std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e9
}

/// Wall and CPU seconds per call of `f` over one round of `reps` calls.
fn round(reps: usize, f: &mut impl FnMut()) -> (f64, f64) {
    let (start, cpu) = (Instant::now(), cpu_secs());
    for _ in 0..reps {
        f();
    }
    let per = |t: f64| t / reps as f64;
    (per(start.elapsed().as_secs_f64()), per(cpu_secs() - cpu))
}

/// Best (min) and median of wall and of CPU seconds per call.
struct Stats {
    wall: (f64, f64),
    cpu: (f64, f64),
}

impl Stats {
    fn of(rounds: &[(f64, f64)]) -> Self {
        let pick = |mut t: Vec<f64>| {
            t.sort_by(f64::total_cmp);
            (t[0], t[t.len() / 2])
        };
        Self {
            wall: pick(rounds.iter().map(|r| r.0).collect()),
            cpu: pick(rounds.iter().map(|r| r.1).collect()),
        }
    }

    /// `work / time` for best and median wall, then best and median CPU time.
    fn rates(&self, work: f64) -> [f64; 4] {
        [
            work / self.wall.0,
            work / self.wall.1,
            work / self.cpu.0,
            work / self.cpu.1,
        ]
    }
}

/// `ROUNDS` rounds of `f` after one warm-up call.
fn time(reps: usize, mut f: impl FnMut()) -> Stats {
    f();
    let r: Vec<(f64, f64)> = (0..ROUNDS).map(|_| round(reps, &mut f)).collect();
    Stats::of(&r)
}

fn print_gflops(label: &str, (m, k, n): (usize, usize, usize), s: &Stats) {
    let [wb, wm, cb, cm] = s.rates(2.0 * (m * k * n) as f64 / 1e9);
    println!("  {label:<34} {m:>5}x{k:>5}x{n:>5}  {wb:>7.1} {wm:>7.1}  {cb:>7.1} {cm:>7.1}");
}

fn values(len: usize, seed: u64) -> Vec<f32> {
    (0..len as u64)
        .map(|i| {
            let h = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
            ((h >> 40) as f32) / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

/// GFLOP/s (best, median) of `dst (m×n) += lhs (m×k) · rhs (k×n)` with the given transposes.
fn gemm_case(label: &str, m: usize, k: usize, n: usize, lhs_t: bool, rhs_t: bool) {
    let a = values(m * k, 1);
    let b = values(k * n, 2);
    let mut c = vec![0.0f32; m * n];
    let lhs = if lhs_t {
        MatRef::row_major(&a, k, m).unwrap().t()
    } else {
        MatRef::row_major(&a, m, k).unwrap()
    };
    let rhs = if rhs_t {
        MatRef::row_major(&b, n, k).unwrap().t()
    } else {
        MatRef::row_major(&b, k, n).unwrap()
    };
    let reps = (2e9 / (2.0 * (m * k * n) as f64)).clamp(1.0, 200.0) as usize;
    let s = time(reps, || matmul(&mut c, lhs, rhs, true).unwrap());
    print_gflops(label, (m, k, n), &s);
}

/// dfdx's matmul (gemm 0.15) on the forward shape, GFLOP/s (best, median).
fn dfdx_gemm_case<const K: usize, const N: usize>(label: &str, m: usize) {
    let dev = Cpu::default();
    let x: Tensor<(usize, Const<K>), f32, _> = dev.tensor_from_vec(values(m * K, 1), (m, Const));
    let w: Tensor<Rank2<K, N>, f32, _> = dev.tensor_from_vec(values(K * N, 2), (Const, Const));
    let reps = (2e9 / (2.0 * (m * K * N) as f64)).clamp(1.0, 200.0) as usize;
    let s = time(reps, || {
        let _ = x.clone().matmul(w.clone());
    });
    print_gflops(label, (m, K, N), &s);
}

/// Forward + backward of `I → H1 → H2 → 10` on a batch of `n`: fused layers vs dfdx's ops,
/// alternating rounds; prints samples/s (best, median) of each.
fn mlp_case<const I: usize, const H1: usize, const H2: usize>(label: &str, n: usize) {
    let dev = Cpu::default();
    let model = dev.build_module::<(
        Dense<I, H1, ReLU>,
        Dense<H1, H2, ReLU>,
        Dense<H2, 10, KLinear>,
    ), f32>();
    let x: Tensor<(usize, Const<I>), f32, _> = dev.tensor_from_vec(values(n * I, 3), (n, Const));
    let mut grads = Some(model.alloc_grads());
    let mut fused = || {
        let mut g = grads.take().unwrap();
        mark_data_input(&mut g, &x);
        let y = model.forward(x.clone().traced(g));
        let mut g = y.sum().backward();
        model.zero_grads(&mut g);
        grads = Some(g);
    };
    let mut grads2 = Some(model.alloc_grads());
    let mut ops = || {
        let g = grads2.take().unwrap();
        let (l1, l2, l3) = &model;
        let h = dense_with_ops(
            x.clone().traced(g),
            &l1.kernel,
            &l1.bias,
            Epilogue::BiasRelu,
        )
        .unwrap();
        let h = dense_with_ops(h, &l2.kernel, &l2.bias, Epilogue::BiasRelu).unwrap();
        let y = dense_with_ops(h, &l3.kernel, &l3.bias, Epilogue::Bias).unwrap();
        let mut g = y.sum().backward();
        model.zero_grads(&mut g);
        grads2 = Some(g);
    };
    let flop = 6.0 * (I * H1 + H1 * H2 + H2 * 10) as f64 * n as f64;
    let reps = (2e9 / flop).clamp(1.0, 100.0) as usize;
    fused();
    ops();
    let (mut tf, mut to) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        tf.push(round(reps, &mut fused));
        to.push(round(reps, &mut ops));
    }
    let f = Stats::of(&tf).rates(n as f64);
    let o = Stats::of(&to).rates(n as f64);
    for (i, what) in ["wall best", "wall median", "CPU best", "CPU median"]
        .iter()
        .enumerate()
    {
        println!(
            "  {label:<4} {what:<12} fused {:>9.0}   dfdx ops {:>9.0}   fused / ops {:.2}",
            f[i],
            o[i],
            f[i] / o[i]
        );
    }
}

fn main() {
    let in_pool = std::env::var("RAYON_POOL").as_deref() != Ok("default");
    if in_pool {
        keras_core::kernels::use_current_thread_in_pool().unwrap();
    }
    println!(
        "rayon threads: {}; calling thread in rayon's pool: {in_pool} (RAYON_POOL=default: no)",
        std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default (one per CPU)".into())
    );
    println!("GEMM GFLOP/s ({ROUNDS} rounds)            m x    k x    n    wall: best  median   per CPU-s: best  median");
    gemm_case("ceiling 1024^3", 1024, 1024, 1024, false, false);
    gemm_case("W1 layer 1 forward x·W", 128, 784, 256, false, false);
    gemm_case("W1 layer 1 kernel grad xᵀ·g", 784, 128, 256, true, false);
    gemm_case("W1 layer 2 forward", 128, 256, 128, false, false);
    gemm_case("W1 layer 2 kernel grad", 256, 128, 128, true, false);
    gemm_case("W1 layer 2 input grad g·Wᵀ", 128, 128, 256, false, true);
    gemm_case("W3 layer 2 forward", 256, 1024, 1024, false, false);
    gemm_case("W3 layer 2 kernel grad", 1024, 256, 1024, true, false);
    gemm_case("W3 layer 2 input grad", 256, 1024, 1024, false, true);
    dfdx_gemm_case::<1024, 1024>("dfdx matmul (gemm 0.15) 1024^3", 1024);
    dfdx_gemm_case::<784, 256>("dfdx matmul W1 layer 1 forward", 128);
    dfdx_gemm_case::<1024, 1024>("dfdx matmul W3 layer 2 forward", 256);
    println!(
        "MLP forward + backward, samples/s and samples per CPU-s ({ROUNDS} alternating rounds)"
    );
    mlp_case::<784, 256, 128>("W1", 128);
    mlp_case::<1024, 1024, 1024>("W3", 256);
}
