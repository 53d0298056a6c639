//! Layer normalization on `Cuda`: in `f32` one fused op on dfdx's tape, in `f64` dfdx's ops.
//!
//! The fused op runs, on dfdx's stream, the plan of `launch.rs`: forward, `layer_norm.cu`'s one
//! kernel (a block per row: the mean, the deviation, the output, the row's statistics kept for
//! the backward); backward, the input's gradient (a block per row) and `gamma`'s and `beta`'s
//! (blocks of columns and rows, and a second kernel summing the row blocks of a large batch).
//! dfdx's ops take about ten kernels each way, with a temporary per op.

use cudarc::driver::DevicePtrMut;
use dfdx::shapes::{Const, HasShape, Rank1};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor};

use super::launch::{
    self, BackwardBuffers, NormDims, FORWARD, INPUT_GRAD, NAMES, PARAM_GRAD, SUM_CHUNKS,
};
use super::with_ops::layer_norm_kernel_with_ops;
use super::{layer_norm_with_ops, LayerNormKernel, Rows};
use crate::kernels::cuda_function::{address, grad_address, run_kernel, scratch, temporary};
use crate::kernels::dense::is_data_input;

/// `layer_norm.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/layer_norm.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_layer_norm";

/// The module as [`run_kernel`] takes it.
const KERNELS: (&str, &str, &[&str]) = (MODULE, PTX, &NAMES);

layer_norm_kernel_with_ops!(Cuda: f64);

/// The fused op. A view that is not row-major and an empty batch go to dfdx's ops. No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl LayerNormKernel<f32> for Cuda {
    fn try_layer_norm<const M: usize, T: Tape<f32, Self>>(
        x: Rows<M, f32, Self, T>,
        gamma: &Tensor<Rank1<M>, f32, Self>,
        beta: &Tensor<Rank1<M>, f32, Self>,
        epsilon: f64,
    ) -> Result<Rows<M, f32, Self, T>, CudaError> {
        let dims = NormDims::new(x.shape().0, M)
            .filter(|_| x.is_row_major() && gamma.is_row_major() && beta.is_row_major());
        let Some(dims) = dims else {
            return layer_norm_with_ops(x, gamma, beta, epsilon);
        };
        let dev = x.device().clone();
        // Not zero-filled: the kernel writes every element of both.
        let mut out: Tensor<(usize, Const<M>), f32, Cuda> =
            dev.try_unfilled_like(&(dims.rows, Const))?;
        let stats = scratch(&dev, dims.stats_len())?;
        let plan = launch::forward(
            dims,
            epsilon as f32,
            address(&x),
            address(gamma),
            address(beta),
            *out.storage_mut().device_ptr_mut(),
            address(&stats),
        );
        // SAFETY: `keras_layer_norm` reads the `rows × M` floats of `x` and the `M` of `gamma`
        // and `beta`, and writes the `rows × M` of `out` and the `2 × rows` of `stats`:
        // row-major live buffers of this device of those lengths (`is_row_major`, `NormDims`,
        // the allocations above), `out` and `stats` borrowed by nobody else.
        unsafe { run_kernel(&dev, KERNELS, FORWARD, plan) }?;
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let saved = Saved {
                x,
                gamma: gamma.clone(),
                beta: beta.clone(),
                out: out.clone(),
                stats,
                dims,
            };
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| saved.backward(grads));
        }
        Ok(out.put_tape(tape))
    }
}

/// What the backward needs, kept alive by the tape.
struct Saved<const M: usize> {
    x: Tensor<(usize, Const<M>), f32, Cuda>,
    gamma: Tensor<Rank1<M>, f32, Cuda>,
    beta: Tensor<Rank1<M>, f32, Cuda>,
    out: Tensor<(usize, Const<M>), f32, Cuda>,
    stats: Tensor<(usize,), f32, Cuda>,
    dims: NormDims,
}

impl<const M: usize> Saved<M> {
    /// Adds to `gamma`'s, `beta`'s and (unless `x` is the data batch) the input's gradients.
    fn backward(self, grads: &mut Gradients<f32, Cuda>) -> Result<(), CudaError> {
        // The data batch (marked in the gradients its tape carries) gets no gradient.
        let need_dx = !is_data_input(grads, &self.x);
        let dev = self.x.device().clone();
        let dims = self.dims;
        let grad_out = grad_address(grads, &self.out)?;
        let grad_gamma = grad_address(grads, &self.gamma)?;
        let grad_beta = grad_address(grads, &self.beta)?;
        let grad_input = match need_dx {
            true => Some(grad_address(grads, &self.x)?),
            false => None,
        };
        let sums = temporary(&dev, dims.scratch_len())?;
        let plan = launch::backward(
            dims,
            BackwardBuffers {
                x: address(&self.x),
                gamma: address(&self.gamma),
                stats: address(&self.stats),
                grad_out,
                scratch: sums.as_ref().map_or(0, address),
                grad_gamma,
                grad_beta,
                grad_input,
            },
        );
        // SAFETY: `keras_layer_norm_input_grad` reads `x`, `gamma`, the statistics and the
        // output's gradient and adds to the input's; `keras_layer_norm_param_grad` reads `x`,
        // the statistics and the output's gradient and adds to `gamma`'s and `beta`'s gradients
        // or writes the `scratch_len` floats of `sums`, which `keras_layer_norm_sum_chunks`
        // adds to them. Every buffer is a live buffer of this device of the length the plan
        // assumes (`is_row_major` and `NormDims` in the forward, the gradients allocated like
        // their tensors, the temporary above), all on dfdx's stream, in order.
        unsafe {
            if let Some(step) = plan.input {
                run_kernel(&dev, KERNELS, INPUT_GRAD, step)?;
            }
            run_kernel(&dev, KERNELS, PARAM_GRAD, plan.params)?;
            if let Some(step) = plan.sum_chunks {
                run_kernel(&dev, KERNELS, SUM_CHUNKS, step)?;
            }
        }
        Ok(())
    }
}
