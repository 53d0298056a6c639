//! `Normalization` on `Cuda`: in `f32` `normalize.cu`'s kernels on dfdx's stream, one launch
//! each way; in `f64` dfdx's ops.

use dfdx::shapes::{Const, HasShape, Rank1};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor};

use super::launch::{backward, forward, ForwardBuffers, NAMES};
use super::with_ops::normalize_kernel_with_ops;
use super::{normalize_with_ops, NormalizeKernel};
use crate::kernels::cuda_function::{address, grad_address, run_kernel};
use crate::kernels::dense::is_data_input;
use crate::kernels::layer_norm::Rows;

normalize_kernel_with_ops!(Cuda: f64);

/// `normalize.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/normalize.ptx"));

/// The module the kernels are loaded under, its PTX and its kernels.
const MODULE: (&str, &str, &[&str]) = ("keras_normalize", PTX, &NAMES);

/// The fused op. A view that is not row-major and an empty batch go to dfdx's ops. No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl NormalizeKernel<f32> for Cuda {
    fn try_normalize<const C: usize, const INVERT: bool, T: Tape<f32, Self>>(
        x: Rows<C, f32, Self, T>,
        mean: &Tensor<Rank1<C>, f32, Self>,
        variance: &Tensor<Rank1<C>, f32, Self>,
    ) -> Result<Rows<C, f32, Self, T>, CudaError> {
        let rows = x.shape().0;
        let n = rows * C;
        if !x.is_row_major() || !mean.is_row_major() || !variance.is_row_major() || n == 0 {
            return normalize_with_ops::<C, INVERT, _, _, _>(x, mean, variance);
        }
        let dev = x.device().clone();
        // Not zero-filled: the kernel writes every value.
        let out: Tensor<(usize, Const<C>), f32, Cuda> = dev.try_unfilled_like(&(rows, Const))?;
        let at = ForwardBuffers {
            x: address(&x),
            mean: address(mean),
            variance: address(variance),
            y: address(&out),
        };
        // SAFETY: the kernel reads the `n` values of `x` and the `C` of `mean` and `variance`
        // and writes the `n` of `out`: row-major live buffers of this device of those lengths
        // (`is_row_major`, the allocation above), `out` borrowed by nobody else.
        unsafe { run_kernel(&dev, MODULE, NAMES[0], forward(n, C, INVERT, at)) }?;
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let (variance, out) = (variance.clone(), out.clone());
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| {
                // The data batch (marked in the gradients its tape carries) gets no gradient,
                // and the statistics never do: nothing to launch.
                if is_data_input(grads, &x) {
                    return Ok(());
                }
                let g = grad_address(grads, &out)?;
                let gx = grad_address(grads, &x)?;
                let plan = backward(n, C, INVERT, address(&variance), g, gx);
                // SAFETY: the kernel reads the `C` values of `variance` and the `n` of the
                // output's gradient and adds to the `n` of the input's: live buffers of this
                // device of those lengths, on dfdx's stream.
                unsafe { run_kernel(&dev, MODULE, NAMES[1], plan) }
            });
        }
        Ok(out.put_tape(tape))
    }
}
