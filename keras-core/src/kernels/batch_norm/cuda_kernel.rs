//! Batch normalization on `Cuda`: in `f32` one fused op on dfdx's tape each way, in `f64`
//! dfdx's ops.
//!
//! The fused op runs, on dfdx's stream, the plans of `launch.rs`: in training five kernels (the
//! per-feature sums of the input and of its squared deviations by blocks of rows, each finished
//! by a small kernel that also derives the statistics and updates the moving ones, then the
//! output), in inference two; backward three (the gradient sums, their totals into `gamma`'s and
//! `beta`'s gradients, the input's gradient). dfdx's ops take about twenty kernels each way in
//! training, each with a temporary.

use cudarc::driver::DevicePtrMut;
use dfdx::shapes::{Const, HasShape, Rank1};
use dfdx::tensor::{Cuda, CudaError, Gradients, NoneTape, PutTape, SplitTape, Tape, Tensor};

use super::launch::{
    self, BackwardBuffers, ForwardBuffers, NormDims, FINISH_GRAD, FINISH_MEAN, FINISH_VAR,
    INFER_STATS, INPUT_GRAD, NAMES, NORMALIZE, SUMS,
};
use super::with_ops::batch_norm_kernel_with_ops;
use super::{batch_norm_infer_with_ops, batch_norm_train_with_ops, BatchNormKernel, Moving};
use crate::kernels::cuda_function::{address, grad_address, run_kernel, scratch};
use crate::kernels::dense::is_data_input;
use crate::kernels::layer_norm::Rows;

/// `batch_norm.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/batch_norm.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_batch_norm";

/// The module as [`run_kernel`] takes it.
const KERNELS: (&str, &str, &[&str]) = (MODULE, PTX, &NAMES);

batch_norm_kernel_with_ops!(Cuda: f64);

/// The fused ops. A view that is not row-major and an empty batch go to dfdx's ops. No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl BatchNormKernel<f32> for Cuda {
    fn try_batch_norm_train<const C: usize, T: Tape<f32, Self>>(
        x: Rows<C, f32, Self, T>,
        gamma: &Tensor<Rank1<C>, f32, Self>,
        beta: &Tensor<Rank1<C>, f32, Self>,
        moving: Moving<'_, C, f32, Self>,
        epsilon: f64,
    ) -> Result<Rows<C, f32, Self, T>, CudaError> {
        let row_major = x.is_row_major()
            && gamma.is_row_major()
            && beta.is_row_major()
            && moving.mean.is_row_major()
            && moving.variance.is_row_major();
        let dims = NormDims::new(x.shape().0, C).filter(|_| row_major);
        let Some(dims) = dims else {
            return batch_norm_train_with_ops(x, gamma, beta, moving, epsilon);
        };
        let dev = x.device().clone();
        // Not zero-filled: the kernels write every element before reading it.
        let mut out: Rows<C, f32, Cuda, NoneTape> = dev.try_unfilled_like(&(dims.rows, Const))?;
        let stats = scratch(&dev, dims.stats_len())?;
        let partial = scratch(&dev, dims.partial_len())?;
        let plan = launch::train_forward(
            dims,
            epsilon as f32,
            moving.momentum,
            ForwardBuffers {
                x: address(&x),
                gamma: address(gamma),
                beta: address(beta),
                moving_mean: *moving.mean.storage_mut().device_ptr_mut(),
                moving_var: *moving.variance.storage_mut().device_ptr_mut(),
                partial: address(&partial),
                stats: address(&stats),
                y: *out.storage_mut().device_ptr_mut(),
            },
        );
        // SAFETY: the kernels read the `rows × C` floats of `x` and the `C` of `gamma` and
        // `beta`, write (then read) the `partial_len` of `partial` and the `2 × C` of `stats`,
        // rewrite the `C` of each moving statistic and write the `rows × C` of `out`: row-major
        // live buffers of this device of those lengths (`is_row_major`, `NormDims`, the
        // allocations above), the written ones borrowed by nobody else, all on dfdx's stream in
        // order.
        unsafe {
            run_kernel(&dev, KERNELS, SUMS, plan.sum_x)?;
            run_kernel(&dev, KERNELS, FINISH_MEAN, plan.mean)?;
            run_kernel(&dev, KERNELS, SUMS, plan.sum_squares)?;
            run_kernel(&dev, KERNELS, FINISH_VAR, plan.var)?;
            run_kernel(&dev, KERNELS, NORMALIZE, plan.normalize)?;
        }
        drop(partial);
        Ok(with_backward(x, (gamma, beta), out, stats, true))
    }

    fn try_batch_norm_infer<const C: usize, T: Tape<f32, Self>>(
        x: Rows<C, f32, Self, T>,
        gamma: &Tensor<Rank1<C>, f32, Self>,
        beta: &Tensor<Rank1<C>, f32, Self>,
        moving_mean: &Tensor<Rank1<C>, f32, Self>,
        moving_variance: &Tensor<Rank1<C>, f32, Self>,
        epsilon: f64,
    ) -> Result<Rows<C, f32, Self, T>, CudaError> {
        let row_major = x.is_row_major()
            && gamma.is_row_major()
            && beta.is_row_major()
            && moving_mean.is_row_major()
            && moving_variance.is_row_major();
        let Some(dims) = NormDims::new(x.shape().0, C).filter(|_| row_major) else {
            return batch_norm_infer_with_ops(
                x,
                gamma,
                beta,
                moving_mean,
                moving_variance,
                epsilon,
            );
        };
        let dev = x.device().clone();
        let mut out: Rows<C, f32, Cuda, NoneTape> = dev.try_unfilled_like(&(dims.rows, Const))?;
        let stats = scratch(&dev, dims.stats_len())?;
        let plan = launch::infer_forward(
            dims,
            epsilon as f32,
            ForwardBuffers {
                x: address(&x),
                gamma: address(gamma),
                beta: address(beta),
                moving_mean: address(moving_mean),
                moving_var: address(moving_variance),
                partial: 0,
                stats: address(&stats),
                y: *out.storage_mut().device_ptr_mut(),
            },
        );
        // SAFETY: `keras_bn_infer_stats` reads the `C` floats of the moving statistics and
        // writes the `2 × C` of `stats`; `keras_bn_normalize` reads those, the `rows × C` of
        // `x` and the `C` of `gamma` and `beta`, and writes the `rows × C` of `out`: row-major
        // live buffers of this device of those lengths, the written ones borrowed by nobody
        // else, on dfdx's stream in order.
        unsafe {
            run_kernel(&dev, KERNELS, INFER_STATS, plan.stats)?;
            run_kernel(&dev, KERNELS, NORMALIZE, plan.normalize)?;
        }
        Ok(with_backward(x, (gamma, beta), out, stats, false))
    }
}

/// `out` on `x`'s tape, with the backward of the op that made it from `x` registered when the
/// tape records; `stats` holds the statistics it used, `training` whether they were the
/// batch's.
fn with_backward<const C: usize, T: Tape<f32, Cuda>>(
    x: Rows<C, f32, Cuda, T>,
    (gamma, beta): (&Tensor<Rank1<C>, f32, Cuda>, &Tensor<Rank1<C>, f32, Cuda>),
    out: Rows<C, f32, Cuda, NoneTape>,
    stats: Tensor<(usize,), f32, Cuda>,
    training: bool,
) -> Rows<C, f32, Cuda, T> {
    let (x, mut tape) = x.split_tape();
    if T::OWNS_TAPE {
        let saved = Saved {
            x,
            gamma: gamma.clone(),
            beta: beta.clone(),
            out: out.clone(),
            stats,
            training,
        };
        tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| saved.backward(grads));
    }
    out.put_tape(tape)
}

/// What the backward needs, kept alive by the tape.
struct Saved<const C: usize> {
    x: Rows<C, f32, Cuda, NoneTape>,
    gamma: Tensor<Rank1<C>, f32, Cuda>,
    beta: Tensor<Rank1<C>, f32, Cuda>,
    out: Rows<C, f32, Cuda, NoneTape>,
    stats: Tensor<(usize,), f32, Cuda>,
    training: bool,
}

impl<const C: usize> Saved<C> {
    /// Adds to `gamma`'s, `beta`'s and (unless `x` is the data batch) the input's gradients.
    fn backward(self, grads: &mut Gradients<f32, Cuda>) -> Result<(), CudaError> {
        // The data batch (marked in the gradients its tape carries) gets no gradient.
        let need_dx = !is_data_input(grads, &self.x);
        let dev = self.x.device().clone();
        let dims = NormDims {
            rows: self.x.shape().0,
            c: C,
        };
        let grad_out = grad_address(grads, &self.out)?;
        let grad_gamma = grad_address(grads, &self.gamma)?;
        let grad_beta = grad_address(grads, &self.beta)?;
        let grad_input = match need_dx {
            true => Some(grad_address(grads, &self.x)?),
            false => None,
        };
        let partial = scratch(&dev, dims.partial_len())?;
        let sums = scratch(&dev, dims.stats_len())?;
        let plan = launch::backward(
            dims,
            self.training,
            BackwardBuffers {
                x: address(&self.x),
                gamma: address(&self.gamma),
                stats: address(&self.stats),
                grad_out,
                partial: address(&partial),
                sums: address(&sums),
                grad_gamma,
                grad_beta,
                grad_input,
            },
        );
        // SAFETY: `keras_bn_sums` reads `x`, the statistics and the output's gradient and writes
        // `partial`; `keras_bn_finish_grad` reads it, writes `sums` and adds to `gamma`'s and
        // `beta`'s gradients; `keras_bn_input_grad` reads `x`, the statistics, `gamma`, the
        // output's gradient and `sums` and adds to the input's gradient. Every buffer is a live
        // buffer of this device of the length the plan assumes (the forward's checks, the
        // gradients allocated like their tensors, the temporaries above), all on dfdx's stream,
        // in order.
        unsafe {
            run_kernel(&dev, KERNELS, SUMS, plan.sums)?;
            run_kernel(&dev, KERNELS, FINISH_GRAD, plan.finish)?;
            if let Some(step) = plan.input {
                run_kernel(&dev, KERNELS, INPUT_GRAD, step)?;
            }
        }
        Ok(())
    }
}
