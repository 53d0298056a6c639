//! `embedding.cu` run on the CPU by the emulation, through the plans of `launch.rs`, against the
//! CPU's op: the same rows (bit for bit: the lookup is a copy), ids that name no row read row 0,
//! and the same gradient added to one that already holds values (bit for bit where each table
//! value gets one addition; where ids repeat, the kernel's atomic additions may come in another
//! order, so within float rounding).

use dfdx::prelude::*;

use super::launch::{plan, NAMES};
use super::try_embedding_lookup;
use crate::kernels::emulation::samples::{assert_close, Samples};
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::Launch;

/// What the table's gradient holds before the backward adds to it.
const BEFORE: f32 = 0.25;

/// Rows of the tables these tests use.
const V: usize = 9;

/// Row width of the tables these tests use.
const M: usize = 5;

/// The CPU op: the rows at `ids`, and the gradient of `sum(rows · w)` with respect to `table`.
fn on_cpu(table: &[f32], ids: &[f32], w: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let dev = Cpu::default();
    let t: Tensor<Rank2<V, M>, f32, _> = dev.tensor_from_vec(table.to_vec(), Default::default());
    let n = ids.len();
    let x: Tensor<(usize,), f32, _> = dev.tensor_from_vec(ids.to_vec(), (n,));
    let rows = try_embedding_lookup(t.leaky_trace(), &x, (n, Const::<M>)).unwrap();
    let values = rows.retaped::<NoneTape>().as_vec();
    let w: Tensor<(usize, Const<M>), f32, _> = dev.tensor_from_vec(w.to_vec(), (n, Const));
    let grads = (rows * w).sum().backward();
    (values, grads.get(&t).as_vec())
}

/// The kernels, emulated: the rows at `ids`, and what the backward added to [`BEFORE`] from the
/// output's gradient `w`.
fn emulated(table: &[f32], ids: &[f32], w: &[f32], shape: Option<Launch>) -> (Vec<f32>, Vec<f32>) {
    let n = ids.len();
    let mut rows = vec![f32::NAN; n * M];
    let (planned, params) = plan(
        n,
        V,
        M,
        address(ids),
        address(table),
        rows.as_mut_ptr() as u64,
    );
    // SAFETY: the kernel reads the `n` ids and the `V · M` table values and writes the `n · M`
    // values of `rows`.
    unsafe { launch(NAMES[0], shape.unwrap_or(planned), &params) }.unwrap();
    let mut grad = vec![BEFORE; V * M];
    let (planned, params) = plan(n, V, M, address(ids), address(w), grad.as_mut_ptr() as u64);
    // SAFETY: the kernel reads the `n` ids and the `n · M` values of `w` and adds to the `V · M`
    // of `grad`.
    unsafe { launch(NAMES[1], shape.unwrap_or(planned), &params) }.unwrap();
    (rows, grad.into_iter().map(|v| v - BEFORE).collect())
}

#[test]
fn the_emulated_lookup_and_gradient_match_the_cpu_op() {
    let mut s = Samples::new(5);
    let table = s.between(V * M, -1.0, 1.0);
    // Each id once (every table value gets one addition): bit for bit, gradient included.
    let distinct: Vec<f32> = [4, 0, 8, 2, 7, 1].map(|i| i as f32).to_vec();
    let w = s.between(distinct.len() * M, -2.0, 2.0);
    let (want_rows, want_grad) = on_cpu(&table, &distinct, &w);
    let (rows, grad) = emulated(&table, &distinct, &w, None);
    assert_eq!(rows, want_rows);
    // `BEFORE + g - BEFORE` rounds as the CPU's `0 + g` does not; compare the additions exactly
    // through the same rounding.
    let want_grad: Vec<f32> = want_grad.iter().map(|g| (BEFORE + g) - BEFORE).collect();
    assert_eq!(grad, want_grad);
    // Repeated ids over several blocks, and ids that name no row (read and trained as row 0).
    let mut ids = s.ids(3_000, V);
    for (i, bad) in [f32::NAN, -1.0, 2.5, V as f32, f32::INFINITY, 1e30, -0.0]
        .into_iter()
        .enumerate()
    {
        ids[i * 401] = bad;
    }
    let w = s.between(ids.len() * M, -1.0, 1.0);
    let (want_rows, want_grad) = on_cpu(&table, &ids, &w);
    let (rows, grad) = emulated(&table, &ids, &w, None);
    assert_eq!(rows, want_rows);
    assert_close("the table's gradient", &grad, &want_grad, 1e-4);
    assert!(want_grad.iter().all(|g| *g != 0.0), "every row is trained");
}

#[test]
fn a_grid_smaller_than_the_values_covers_them_all() {
    let mut s = Samples::new(8);
    let table = s.between(V * M, -1.0, 1.0);
    let ids = s.ids(700, V);
    let w = s.between(ids.len() * M, -1.0, 1.0);
    // 2 blocks of 256 threads over 3,500 values: each thread takes several.
    let shape = Launch {
        grid: 2,
        grid_y: 1,
        block: 256,
        shared_bytes: 0,
    };
    let (want_rows, want_grad) = on_cpu(&table, &ids, &w);
    let (rows, grad) = emulated(&table, &ids, &w, Some(shape));
    assert_eq!(rows, want_rows);
    assert_close("the table's gradient", &grad, &want_grad, 1e-4);
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
