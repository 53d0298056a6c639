//! The fused `Dense` op's `Cuda` plan (`launch.rs`) run on the CPU: its cuBLAS products by
//! `reference_sgemm` (BLAS's definition of `sgemm`, column-major), `dense.cu`'s kernels by the
//! emulation, against the CPU's fused op: the output and every gradient, which the plan adds to
//! gradients that already hold values.

use dfdx::prelude::*;

use super::launch::{
    self, BackwardBuffers, DenseDims, ReluBuffers, BIAS, BIAS_GRAD, NAMES, SUM_CHUNKS,
};
use crate::kernels::emulation::blas::reference_sgemm;
use crate::kernels::emulation::samples::{assert_close, Samples};
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::{mark_data_input, try_dense, Epilogue};

/// One run of the op: a `rows × inner` batch into `O` outputs.
#[derive(Debug, Clone, Copy)]
struct Case {
    rows: usize,
    inner: usize,
    relu: bool,
    /// The batch is marked as data: no input gradient.
    data: bool,
    /// One input value is NaN.
    nan: bool,
}

/// The output, then the input, kernel and bias gradients.
type Results = [Vec<f32>; 4];

/// The inputs of a case: batch, kernel, bias, the output's gradient.
fn inputs<const O: usize>(case: Case) -> [Vec<f32>; 4] {
    let mut s = Samples::new((case.rows * 31 + case.inner * 7 + O) as u64);
    let mut x = s.between(case.rows * case.inner, -1.0, 1.0);
    if case.nan {
        x[case.rows * case.inner / 2] = f32::NAN;
    }
    [
        x,
        s.between(case.inner * O, -1.0, 1.0),
        s.between(O, -0.5, 0.5),
        s.between(case.rows * O, -1.0, 1.0),
    ]
}

/// The CPU's fused op (`Cpu`, `f32`): `y` and the gradients of `sum(y * r)`, from zero.
fn on_cpu<const O: usize>(case: Case) -> Results {
    let [x, k, b, r] = inputs::<O>(case);
    let dev = Cpu::default();
    let x: Tensor<(usize, usize), f32, _> = dev.tensor_from_vec(x, (case.rows, case.inner));
    let kernel: Tensor<(usize, Const<O>), f32, _> = dev.tensor_from_vec(k, (case.inner, Const));
    let bias: Tensor<Rank1<O>, f32, _> = dev.tensor_from_vec(b, (Const,));
    let r: Tensor<(usize, Const<O>), f32, _> = dev.tensor_from_vec(r, (case.rows, Const));
    let epilogue = match case.relu {
        true => Epilogue::BiasRelu,
        false => Epilogue::Bias,
    };
    let mut grads = Gradients::leaky();
    if case.data {
        mark_data_input(&mut grads, &x);
    }
    let taped = x.trace(grads);
    let y = try_dense(taped, &kernel, &bias, epilogue).unwrap();
    let out = y.retaped::<NoneTape>().as_vec();
    let mut grads = (y * r).sum().backward();
    [
        out,
        grads.get_or_alloc_mut(&x).unwrap().to_vec(),
        grads.get(&kernel).as_vec(),
        grads.get(&bias).as_vec(),
    ]
}

/// Values the gradients hold before the backward (the plan adds to them) and the scratch
/// buffers hold before they are written.
const BEFORE: f32 = 0.25;
const GARBAGE: f32 = 1.0e30;

/// The `Cuda` plan, emulated: the output and the gradients the backward added to [`BEFORE`].
fn emulated<const O: usize>(case: Case) -> Results {
    let [x, k, b, r] = inputs::<O>(case);
    let dims = DenseDims::new(case.rows, case.inner, O).unwrap();
    let mut y = vec![GARBAGE; dims.out_len()];
    let plan = launch::forward(
        dims,
        case.relu,
        address(&x),
        address(&k),
        address(&b),
        y.as_mut_ptr() as u64,
    );
    // SAFETY: the product reads `x` and `k` and writes `y`, the kernel reads `b` and rewrites `y`,
    // each as long as `dims` says.
    unsafe {
        reference_sgemm(&plan.product);
        launch(BIAS, plan.bias.0, &plan.bias.1).unwrap();
    }
    let r_before = r.clone();
    let mut masked = vec![GARBAGE; dims.out_len()];
    let mut scratch = vec![GARBAGE; dims.scratch_len()];
    let mut gx = vec![BEFORE; case.rows * case.inner];
    let mut gk = vec![BEFORE; case.inner * O];
    let mut gb = vec![BEFORE; O];
    let plan = launch::backward(
        dims,
        BackwardBuffers {
            x: address(&x),
            kernel: address(&k),
            relu: case.relu.then(|| ReluBuffers {
                out: address(&y),
                masked: masked.as_mut_ptr() as u64,
            }),
            grad_out: address(&r),
            scratch: scratch.as_mut_ptr() as u64,
            grad_kernel: gk.as_mut_ptr() as u64,
            grad_bias: gb.as_mut_ptr() as u64,
            grad_input: (!case.data).then_some(gx.as_mut_ptr() as u64),
        },
    );
    assert_eq!(plan.sum_chunks.is_some(), dims.scratch_len() > 0);
    // SAFETY: every address is one of the buffers above, as long as `dims` says (the scratch
    // only when there are several row blocks); `r`, `x`, `k` and `y` are only read.
    unsafe {
        launch(BIAS_GRAD, plan.bias_grad.0, &plan.bias_grad.1).unwrap();
        if let Some((shape, params)) = plan.sum_chunks {
            launch(SUM_CHUNKS, shape, &params).unwrap();
        }
        reference_sgemm(&plan.grad_kernel);
        if let Some(grad_input) = plan.grad_input {
            reference_sgemm(&grad_input);
        }
    }
    assert_eq!(r, r_before, "the output's gradient is read only");
    let added = |g: Vec<f32>| g.into_iter().map(|v| v - BEFORE).collect::<Vec<_>>();
    [y, added(gx), added(gk), added(gb)]
}

/// The emulated plan agrees with the CPU's fused op on `case` with `O` outputs.
fn check<const O: usize>(case: Case) {
    let cpu = on_cpu::<O>(case);
    let emulated = emulated::<O>(case);
    // Sums over the rows in other orders than the CPU's `f32` products (the reference sums in
    // `f64`): the rounding grows with the rows.
    let tolerance = 1e-5 * (case.rows as f32 / 100.0).max(1.0);
    for (what, (got, want)) in [
        "output",
        "input gradient",
        "kernel gradient",
        "bias gradient",
    ]
    .iter()
    .zip(emulated.iter().zip(&cpu))
    {
        assert_close(
            &format!("{case:?}, {O} outputs: {what}"),
            got,
            want,
            tolerance,
        );
    }
    if case.data {
        assert!(emulated[1].iter().all(|&g| g == 0.0), "the batch is data");
    }
    // Not a vacuous comparison: the kernel gets a gradient.
    assert!(cpu[2].iter().any(|&g| g != 0.0));
}

/// Every combination of ReLU and data batch, with and without a NaN input, on `rows × inner`.
fn each_form<const O: usize>(rows: usize, inner: usize) {
    for relu in [false, true] {
        for data in [false, true] {
            for nan in [false, true] {
                check::<O>(Case {
                    rows,
                    inner,
                    relu,
                    data,
                    nan,
                });
            }
        }
    }
}

#[test]
fn the_emulated_cuda_dense_op_matches_the_cpu_fused_op_in_value_and_every_gradient() {
    // One element; one block of columns; ragged column blocks.
    each_form::<1>(1, 1);
    each_form::<11>(9, 13);
    each_form::<70>(33, 5);
}

#[test]
fn large_batches_sum_the_bias_gradient_over_row_blocks_in_a_second_kernel() {
    // 300 rows: two row blocks; 2000: eight, the last one short.
    assert_eq!(DenseDims::new(300, 7, 40).unwrap().row_blocks(), 2);
    assert_eq!(DenseDims::new(2000, 3, 33).unwrap().row_blocks(), 8);
    each_form::<40>(300, 7);
    each_form::<33>(2000, 3);
}

#[test]
fn sizes_the_fused_op_cannot_take_are_left_to_dfdx_ops() {
    assert!(DenseDims::new(0, 3, 4).is_none());
    assert!(DenseDims::new(3, 0, 4).is_none());
    assert!(DenseDims::new(1 << 31, 3, 4).is_none());
    assert!(DenseDims::new((1 << 31) - 1, 3, 4).is_some());
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
