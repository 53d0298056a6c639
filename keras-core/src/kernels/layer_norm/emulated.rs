//! The fused layer normalization's `Cuda` plan (`launch.rs`) run on the CPU, `layer_norm.cu`'s
//! kernels by the emulation, against the CPU's fused op: the output and every gradient, which
//! the plan adds to gradients that already hold values.

use dfdx::prelude::*;

use super::launch::{
    self, BackwardBuffers, NormDims, FORWARD, INPUT_GRAD, NAMES, PARAM_GRAD, SUM_CHUNKS,
};
use super::LayerNormKernel;
use crate::kernels::emulation::samples::{assert_close, Samples};
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::mark_data_input;

/// Values the gradients hold before the backward (the plan adds to them) and the temporaries
/// hold before they are written.
const BEFORE: f32 = 0.25;
const GARBAGE: f32 = 1.0e30;
const EPSILON: f64 = 1e-3;

/// One run of the op.
#[derive(Debug, Clone, Copy)]
struct Case {
    rows: usize,
    /// The batch is marked as data: no input gradient.
    data: bool,
    /// One input value is NaN (its row's outputs and gradients are NaN).
    nan: bool,
    /// Added to every input (a mean far from zero).
    offset: f32,
    /// Blocks the row kernels run on, when fewer than the plan's one per row: each block then
    /// loops over several rows, as beyond 65,535 rows.
    grid: Option<u32>,
}

/// The output, then the input, `gamma` and `beta` gradients.
type Results = [Vec<f32>; 4];

/// The inputs of a case: batch, `gamma`, `beta`, the output's gradient.
fn inputs<const M: usize>(case: Case) -> [Vec<f32>; 4] {
    let mut s = Samples::new((case.rows * 31 + M * 7) as u64);
    let mut x: Vec<f32> = s
        .between(case.rows * M, -2.0, 2.0)
        .into_iter()
        .map(|v| v + case.offset)
        .collect();
    if case.nan {
        x[case.rows * M / 2] = f32::NAN;
    }
    [
        x,
        s.between(M, 0.5, 1.5),
        s.between(M, -0.5, 0.5),
        s.between(case.rows * M, -1.0, 1.0),
    ]
}

/// The CPU's fused op: `y` and the gradients of `sum(y * r)`, from zero.
fn on_cpu<const M: usize>(case: Case) -> Results {
    let [x, gamma, beta, r] = inputs::<M>(case);
    let dev = Cpu::default();
    let x: Tensor<(usize, Const<M>), f32, _> = dev.tensor_from_vec(x, (case.rows, Const));
    let gamma: Tensor<Rank1<M>, f32, _> = dev.tensor_from_vec(gamma, (Const,));
    let beta: Tensor<Rank1<M>, f32, _> = dev.tensor_from_vec(beta, (Const,));
    let r: Tensor<(usize, Const<M>), f32, _> = dev.tensor_from_vec(r, (case.rows, Const));
    let mut grads = Gradients::leaky();
    if case.data {
        mark_data_input(&mut grads, &x);
    }
    let taped = x.trace(grads);
    let y = Cpu::try_layer_norm(taped, &gamma, &beta, EPSILON).unwrap();
    let out = y.retaped::<NoneTape>().as_vec();
    let mut grads = (y * r).sum().backward();
    [
        out,
        grads.get_or_alloc_mut(&x).unwrap().to_vec(),
        grads.get(&gamma).as_vec(),
        grads.get(&beta).as_vec(),
    ]
}

/// The `Cuda` plan, emulated: the output and the gradients the backward added to [`BEFORE`].
fn emulated<const M: usize>(case: Case) -> Results {
    let [x, gamma, beta, r] = inputs::<M>(case);
    let dims = NormDims::new(case.rows, M).unwrap();
    let mut y = vec![GARBAGE; dims.rows * M];
    let mut stats = vec![GARBAGE; dims.stats_len()];
    let (mut shape, params) = launch::forward(
        dims,
        EPSILON as f32,
        address(&x),
        address(&gamma),
        address(&beta),
        y.as_mut_ptr() as u64,
        stats.as_mut_ptr() as u64,
    );
    shape.grid = case.grid.unwrap_or(shape.grid);
    // SAFETY: the kernel reads `x`, `gamma` and `beta` and writes `y` and `stats`, each as long
    // as `dims` says.
    unsafe { launch(FORWARD, shape, &params) }.unwrap();
    let mut scratch = vec![GARBAGE; dims.scratch_len()];
    let mut gx = vec![BEFORE; dims.rows * M];
    let mut gg = vec![BEFORE; M];
    let mut gb = vec![BEFORE; M];
    let plan = launch::backward(
        dims,
        BackwardBuffers {
            x: address(&x),
            gamma: address(&gamma),
            stats: address(&stats),
            grad_out: address(&r),
            scratch: scratch.as_mut_ptr() as u64,
            grad_gamma: gg.as_mut_ptr() as u64,
            grad_beta: gb.as_mut_ptr() as u64,
            grad_input: (!case.data).then_some(gx.as_mut_ptr() as u64),
        },
    );
    assert_eq!(plan.sum_chunks.is_some(), dims.scratch_len() > 0);
    // SAFETY: every address is one of the buffers above, as long as `dims` says (the scratch
    // only with several row blocks); `x`, `gamma`, `stats` and `r` are only read.
    unsafe {
        if let Some((mut shape, params)) = plan.input {
            shape.grid = case.grid.unwrap_or(shape.grid);
            launch(INPUT_GRAD, shape, &params).unwrap();
        }
        launch(PARAM_GRAD, plan.params.0, &plan.params.1).unwrap();
        if let Some((shape, params)) = plan.sum_chunks {
            launch(SUM_CHUNKS, shape, &params).unwrap();
        }
    }
    let added = |g: Vec<f32>| g.into_iter().map(|v| v - BEFORE).collect::<Vec<_>>();
    [y, added(gx), added(gg), added(gb)]
}

/// The emulated plan agrees with the CPU's fused op on `case` with `M` features.
fn check<const M: usize>(case: Case) {
    let cpu = on_cpu::<M>(case);
    let emulated = emulated::<M>(case);
    // Sums in other orders than the CPU's (a tree per row, lanes and row blocks over the
    // rows): the rounding grows with the features, the rows and the offset.
    let tolerance = 1e-5
        * (M as f32 / 32.0).max(1.0)
        * (case.rows as f32 / 100.0).max(1.0)
        * (1.0 + case.offset.abs() / 4.0);
    for (what, (got, want)) in [
        "output",
        "input gradient",
        "gamma gradient",
        "beta gradient",
    ]
    .iter()
    .zip(emulated.iter().zip(&cpu))
    {
        assert_close(
            &format!("{case:?}, {M} features: {what}"),
            got,
            want,
            tolerance,
        );
    }
    if case.data {
        assert!(emulated[1].iter().all(|&g| g == 0.0), "the batch is data");
    }
    // Not a vacuous comparison: the gradients are not all zero (with one feature they are:
    // every output is beta).
    if M > 1 {
        assert!(case.data || cpu[1].iter().any(|&g| g != 0.0 && !g.is_nan()));
        assert!(cpu[2].iter().any(|&g| g != 0.0));
    }
    assert!(cpu[3].iter().any(|&g| g != 0.0));
}

/// Every combination of data batch and NaN input on `rows` rows of `M` features.
fn each_form<const M: usize>(rows: usize, offset: f32) {
    for data in [false, true] {
        for nan in [false, true] {
            check::<M>(Case {
                rows,
                data,
                nan: nan && rows > 1,
                offset,
                grid: None,
            });
        }
    }
}

#[test]
fn the_emulated_cuda_layer_norm_matches_the_cpu_fused_op_in_value_and_every_gradient() {
    // One feature (every output is beta); fewer features than a warp; more than a block's
    // threads (each thread sums several); a mean far from zero.
    each_form::<1>(3, 0.0);
    each_form::<5>(4, 0.0);
    each_form::<33>(7, 0.0);
    each_form::<300>(2, 0.0);
    each_form::<16>(5, 100.0);
}

#[test]
fn large_batches_sum_the_parameter_gradients_over_row_blocks() {
    assert_eq!(NormDims::new(600, 7).unwrap().row_blocks(), 3);
    assert_eq!(NormDims::new(600, 7).unwrap().scratch_len(), 2 * 3 * 7);
    each_form::<7>(600, 0.0);
    each_form::<40>(257, 0.0);
}

#[test]
fn blocks_that_loop_over_several_rows_give_the_same_results() {
    for grid in [1, 2] {
        for data in [false, true] {
            check::<37>(Case {
                rows: 5,
                data,
                nan: false,
                offset: 0.0,
                grid: Some(grid),
            });
        }
    }
}

#[test]
fn sizes_the_fused_op_cannot_take_are_left_to_dfdx_ops() {
    assert!(NormDims::new(0, 3).is_none());
    assert!(NormDims::new(3, 0).is_none());
    assert!(NormDims::new(usize::MAX, 2).is_none());
}

#[test]
fn every_kernel_the_layer_norm_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
