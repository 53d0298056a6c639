//! The fused batch normalization's `Cuda` plans (`launch.rs`) run on the CPU, `batch_norm.cu`'s
//! kernels by the emulation, against the CPU's fused op: the output, the moving statistics and
//! every gradient, which the plan adds to gradients that already hold values.

use dfdx::prelude::*;

use super::launch::{
    self, BackwardBuffers, ForwardBuffers, NormDims, FINISH_GRAD, FINISH_MEAN, FINISH_VAR,
    INFER_STATS, INPUT_GRAD, NAMES, NORMALIZE, SUMS,
};
use super::{BatchNormKernel, Moving};
use crate::kernels::emulation::samples::{assert_close, Samples};
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::mark_data_input;

/// Values the gradients hold before the backward (the plan adds to them) and the temporaries
/// hold before they are written.
const BEFORE: f32 = 0.25;
const GARBAGE: f32 = 1.0e30;
const EPSILON: f64 = 1e-3;
const MOMENTUM: f64 = 0.9;

/// One run of the op.
#[derive(Debug, Clone, Copy)]
struct Case {
    rows: usize,
    /// The batch's statistics (and the moving update), or the moving ones.
    training: bool,
    /// The batch is marked as data: no input gradient.
    data: bool,
    /// Added to every input (a mean far from zero).
    offset: f32,
}

/// The output, the input, `gamma` and `beta` gradients, the moving mean and variance after.
type Results = [Vec<f32>; 6];

/// The inputs of a case: batch, `gamma`, `beta`, moving mean, moving variance, the output's
/// gradient.
fn inputs<const C: usize>(case: Case) -> [Vec<f32>; 6] {
    let mut s = Samples::new((case.rows * 31 + C * 7 + usize::from(case.training)) as u64);
    let x = s.between(case.rows * C, -2.0, 2.0);
    [
        x.into_iter().map(|v| v + case.offset).collect(),
        s.between(C, 0.5, 1.5),
        s.between(C, -0.5, 0.5),
        s.between(C, -0.5, 0.5),
        s.between(C, 0.5, 2.0),
        s.between(case.rows * C, -1.0, 1.0),
    ]
}

/// The CPU's fused op: `y`, the gradients of `sum(y * r)` from zero, the moving statistics.
fn on_cpu<const C: usize>(case: Case) -> Results {
    let [x, gamma, beta, mm, mv, r] = inputs::<C>(case);
    let dev = Cpu::default();
    let x: Tensor<(usize, Const<C>), f32, _> = dev.tensor_from_vec(x, (case.rows, Const));
    let gamma: Tensor<Rank1<C>, f32, _> = dev.tensor_from_vec(gamma, (Const,));
    let beta: Tensor<Rank1<C>, f32, _> = dev.tensor_from_vec(beta, (Const,));
    let mut mean: Tensor<Rank1<C>, f32, _> = dev.tensor_from_vec(mm, (Const,));
    let mut variance: Tensor<Rank1<C>, f32, _> = dev.tensor_from_vec(mv, (Const,));
    let r: Tensor<(usize, Const<C>), f32, _> = dev.tensor_from_vec(r, (case.rows, Const));
    let mut grads = Gradients::leaky();
    if case.data {
        mark_data_input(&mut grads, &x);
    }
    let taped = x.trace(grads);
    let y = match case.training {
        true => {
            let moving = Moving {
                mean: &mut mean,
                variance: &mut variance,
                momentum: MOMENTUM,
            };
            Cpu::try_batch_norm_train(taped, &gamma, &beta, moving, EPSILON)
        }
        false => Cpu::try_batch_norm_infer(taped, &gamma, &beta, &mean, &variance, EPSILON),
    }
    .unwrap();
    let out = y.retaped::<NoneTape>().as_vec();
    let mut grads = (y * r).sum().backward();
    [
        out,
        grads.get_or_alloc_mut(&x).unwrap().to_vec(),
        grads.get(&gamma).as_vec(),
        grads.get(&beta).as_vec(),
        mean.as_vec(),
        variance.as_vec(),
    ]
}

/// The `Cuda` plans, emulated: the output, the gradients the backward added to [`BEFORE`], the
/// moving statistics.
fn emulated<const C: usize>(case: Case) -> Results {
    let [x, gamma, beta, mut mm, mut mv, r] = inputs::<C>(case);
    let dims = NormDims::new(case.rows, C).unwrap();
    let mut y = vec![GARBAGE; case.rows * C];
    let mut stats = vec![GARBAGE; dims.stats_len()];
    let mut partial = vec![GARBAGE; dims.partial_len()];
    let buffers = ForwardBuffers {
        x: address(&x),
        gamma: address(&gamma),
        beta: address(&beta),
        moving_mean: mm.as_mut_ptr() as u64,
        moving_var: mv.as_mut_ptr() as u64,
        partial: partial.as_mut_ptr() as u64,
        stats: stats.as_mut_ptr() as u64,
        y: y.as_mut_ptr() as u64,
    };
    // SAFETY: every address is one of the buffers above, as long as `dims` says; `x`, `gamma`
    // and `beta` are only read, the moving statistics only in inference.
    unsafe {
        match case.training {
            true => {
                let plan = launch::train_forward(dims, EPSILON as f32, MOMENTUM, buffers);
                launch(SUMS, plan.sum_x.0, &plan.sum_x.1).unwrap();
                launch(FINISH_MEAN, plan.mean.0, &plan.mean.1).unwrap();
                launch(SUMS, plan.sum_squares.0, &plan.sum_squares.1).unwrap();
                launch(FINISH_VAR, plan.var.0, &plan.var.1).unwrap();
                launch(NORMALIZE, plan.normalize.0, &plan.normalize.1).unwrap();
            }
            false => {
                let plan = launch::infer_forward(dims, EPSILON as f32, buffers);
                launch(INFER_STATS, plan.stats.0, &plan.stats.1).unwrap();
                launch(NORMALIZE, plan.normalize.0, &plan.normalize.1).unwrap();
            }
        }
    }
    let mut partial = vec![GARBAGE; dims.partial_len()];
    let mut sums = vec![GARBAGE; dims.stats_len()];
    let mut gx = vec![BEFORE; case.rows * C];
    let mut gg = vec![BEFORE; C];
    let mut gb = vec![BEFORE; C];
    let plan = launch::backward(
        dims,
        case.training,
        BackwardBuffers {
            x: address(&x),
            gamma: address(&gamma),
            stats: address(&stats),
            grad_out: address(&r),
            partial: partial.as_mut_ptr() as u64,
            sums: sums.as_mut_ptr() as u64,
            grad_gamma: gg.as_mut_ptr() as u64,
            grad_beta: gb.as_mut_ptr() as u64,
            grad_input: (!case.data).then_some(gx.as_mut_ptr() as u64),
        },
    );
    // SAFETY: as above; `x`, `gamma`, `stats` and `r` are only read.
    unsafe {
        launch(SUMS, plan.sums.0, &plan.sums.1).unwrap();
        launch(FINISH_GRAD, plan.finish.0, &plan.finish.1).unwrap();
        if let Some((shape, params)) = plan.input {
            launch(INPUT_GRAD, shape, &params).unwrap();
        }
    }
    let added = |g: Vec<f32>| g.into_iter().map(|v| v - BEFORE).collect::<Vec<_>>();
    [y, added(gx), added(gg), added(gb), mm, mv]
}

/// The emulated plans agree with the CPU's fused op on `case` with `C` features.
fn check<const C: usize>(case: Case) {
    let cpu = on_cpu::<C>(case);
    let emulated = emulated::<C>(case);
    // Sums over the rows in other orders (lanes and row blocks here, blocks of rows there):
    // the rounding grows with the rows and the offset.
    let tolerance = 1e-5 * (case.rows as f32 / 100.0).max(1.0) * (1.0 + case.offset.abs() / 4.0);
    for (what, (got, want)) in [
        "output",
        "input gradient",
        "gamma gradient",
        "beta gradient",
        "moving mean",
        "moving variance",
    ]
    .iter()
    .zip(emulated.iter().zip(&cpu))
    {
        assert_close(
            &format!("{case:?}, {C} features: {what}"),
            got,
            want,
            tolerance,
        );
    }
    if case.data {
        assert!(emulated[1].iter().all(|&g| g == 0.0), "the batch is data");
    } else if case.rows > 1 || !case.training {
        // Not a vacuous comparison (one row in training normalizes to 0 whatever x is).
        assert!(cpu[1].iter().any(|&g| g != 0.0));
    }
    assert!(cpu[3].iter().any(|&g| g != 0.0));
}

/// Training and inference, with and without the data mark.
fn each_form<const C: usize>(rows: usize, offset: f32) {
    for training in [true, false] {
        for data in [false, true] {
            check::<C>(Case {
                rows,
                training,
                data,
                offset,
            });
        }
    }
}

#[test]
fn the_emulated_cuda_batch_norm_matches_the_cpu_fused_op_in_training_and_inference() {
    // One row (training: every output is beta); one feature; a column block and a ragged one;
    // a mean far from zero.
    each_form::<4>(1, 0.0);
    each_form::<1>(6, 0.0);
    each_form::<3>(8, 0.0);
    each_form::<33>(5, 0.0);
    each_form::<5>(16, 500.0);
}

#[test]
fn large_batches_sum_over_row_blocks() {
    // 600 rows: three row blocks here, three blocks of rows on the CPU.
    assert_eq!(NormDims::new(600, 3).unwrap().row_blocks(), 3);
    each_form::<3>(600, 0.0);
    each_form::<40>(257, 0.0);
}

#[test]
fn sizes_the_fused_op_cannot_take_are_left_to_dfdx_ops() {
    assert!(NormDims::new(0, 3).is_none());
    assert!(NormDims::new(3, 0).is_none());
    assert!(NormDims::new(usize::MAX, 2).is_none());
}

#[test]
fn every_kernel_the_batch_norm_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
