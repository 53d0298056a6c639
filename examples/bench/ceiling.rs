//! `--gemm`: the machine's rate for W4's matrix products in isolation, the ceiling that `fit`
//! and `predict` are measured against.
//!
//! Each product of a W4 step is timed alone with `keras::kernels::matmul` on whole-batch
//! operands already in memory (no window packing, no other work): the forward's three (conv 1,
//! conv 2 and the dense layer over the column matrices of a batch of `batch` images) and the
//! backward's five (each layer's kernel gradient, the input gradients of conv 2 and the dense
//! layer; conv 1's input is the data). The ceiling is their FLOPs over their summed median
//! times: for `predict` the forward's, for `fit` all eight.

use std::time::Instant;

use keras::kernels::{matmul, MatRef};

/// One product `m × k` by `k × n`; `lhs_t`/`rhs_t`: the operand is stored transposed.
struct Shape {
    name: &'static str,
    m: usize,
    k: usize,
    n: usize,
    lhs_t: bool,
    rhs_t: bool,
    forward: bool,
}

/// Median seconds of `rounds` products of `s`.
fn time(s: &Shape, rounds: usize) -> f64 {
    let a: Vec<f32> = (0..s.m * s.k).map(|i| (i % 13) as f32 * 0.01).collect();
    let b: Vec<f32> = (0..s.k * s.n).map(|i| (i % 7) as f32 * 0.01).collect();
    let mut c = vec![0.0f32; s.m * s.n];
    let lhs = if s.lhs_t {
        MatRef::row_major(&a, s.k, s.m).map(MatRef::t)
    } else {
        MatRef::row_major(&a, s.m, s.k)
    }
    .expect("the lengths follow from the shape");
    let rhs = if s.rhs_t {
        MatRef::row_major(&b, s.n, s.k).map(MatRef::t)
    } else {
        MatRef::row_major(&b, s.k, s.n)
    }
    .expect("the lengths follow from the shape");
    let mut secs: Vec<f64> = (0..rounds + 2)
        .map(|_| {
            let start = Instant::now();
            matmul(&mut c, lhs, rhs, false).expect("shapes agree");
            start.elapsed().as_secs_f64()
        })
        .skip(2)
        .collect();
    secs.sort_by(f64::total_cmp);
    secs[secs.len() / 2]
}

/// Prints W4's products at batch `batch`, each alone, and the two ceilings.
pub fn print_w4(batch: usize) {
    let (p1, p2) = (batch * 26 * 26, batch * 11 * 11);
    let shapes = [
        Shape {
            name: "conv 1 forward",
            m: p1,
            k: 9,
            n: 32,
            lhs_t: false,
            rhs_t: false,
            forward: true,
        },
        Shape {
            name: "conv 2 forward",
            m: p2,
            k: 288,
            n: 64,
            lhs_t: false,
            rhs_t: false,
            forward: true,
        },
        Shape {
            name: "dense forward",
            m: batch,
            k: 1600,
            n: 10,
            lhs_t: false,
            rhs_t: false,
            forward: true,
        },
        Shape {
            name: "conv 1 kernel grad",
            m: 9,
            k: p1,
            n: 32,
            lhs_t: true,
            rhs_t: false,
            forward: false,
        },
        Shape {
            name: "conv 2 kernel grad",
            m: 288,
            k: p2,
            n: 64,
            lhs_t: true,
            rhs_t: false,
            forward: false,
        },
        Shape {
            name: "conv 2 input grad",
            m: p2,
            k: 64,
            n: 288,
            lhs_t: false,
            rhs_t: true,
            forward: false,
        },
        Shape {
            name: "dense kernel grad",
            m: 1600,
            k: batch,
            n: 10,
            lhs_t: true,
            rhs_t: false,
            forward: false,
        },
        Shape {
            name: "dense input grad",
            m: batch,
            k: 10,
            n: 1600,
            lhs_t: false,
            rhs_t: true,
            forward: false,
        },
    ];
    println!("W4 products alone (keras::kernels::matmul, batch {batch}, median of 20):");
    let (mut fwd, mut all) = ((0.0, 0.0), (0.0, 0.0));
    for s in &shapes {
        let secs = time(s, 20);
        let flops = 2.0 * (s.m * s.k * s.n) as f64;
        println!(
            "  {:<20} {:>6} × {:>6} × {:>4}  {:>7.1} GFLOP/s",
            s.name,
            s.m,
            s.k,
            s.n,
            flops / secs / 1e9
        );
        all = (all.0 + flops, all.1 + secs);
        if s.forward {
            fwd = (fwd.0 + flops, fwd.1 + secs);
        }
    }
    println!(
        "  ceiling: predict (forward products) {:.1} GFLOP/s, fit (all products) {:.1} GFLOP/s",
        fwd.0 / fwd.1 / 1e9,
        all.0 / all.1 / 1e9
    );
}
