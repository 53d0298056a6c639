//! Global average pooling on `Cuda`: in `f32` `global_pool.cu`'s kernels on dfdx's stream, one
//! launch each way; in `f64` dfdx's mean.

use dfdx::shapes::{Const, Dim, HasShape};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor};

use super::launch::{backward, forward, NAMES};
use super::with_ops::global_pool_kernel_with_ops;
use super::{global_avg_pool_with_ops, GlobalPoolKernel, Pooled, Steps};
use crate::kernels::cuda_function::{address, grad_address, run_kernel};

global_pool_kernel_with_ops!(Cuda: f64);

/// `global_pool.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/global_pool.ptx"));

/// The module the kernels are loaded under, its PTX and its kernels.
const MODULE: (&str, &str, &[&str]) = ("keras_global_pool", PTX, &NAMES);

/// The fused op. A view that is not row-major and an empty tensor go to dfdx's mean.
impl GlobalPoolKernel<f32> for Cuda {
    fn try_global_avg_pool<B: Dim, const C: usize, T: Tape<f32, Self>>(
        x: Steps<B, C, f32, Self, T>,
    ) -> Result<Pooled<B, C, f32, Self, T>, CudaError> {
        let (batch, steps, _) = *x.shape();
        let rows = batch.size();
        if !x.is_row_major() || rows * steps * C == 0 {
            return global_avg_pool_with_ops(x);
        }
        let dev = x.device().clone();
        // Not zero-filled: the kernel writes every value.
        let out: Tensor<(B, Const<C>), f32, Cuda> = dev.try_unfilled_like(&(batch, Const))?;
        let plan = forward(rows, steps, C, address(&x), address(&out));
        // SAFETY: the kernel reads the `rows · steps · C` values of `x` and writes the
        // `rows · C` of `out`: row-major live buffers of this device of those lengths
        // (`is_row_major`, the allocation above), `out` borrowed by nobody else.
        unsafe { run_kernel(&dev, MODULE, NAMES[0], plan) }?;
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let out = out.clone();
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| {
                let g = grad_address(grads, &out)?;
                let gx = grad_address(grads, &x)?;
                let plan = backward(rows, steps, C, g, gx);
                // SAFETY: the kernel reads the `rows · C` values of the output's gradient and
                // adds to the `rows · steps · C` of the input's: live buffers of this device of
                // those lengths, on dfdx's stream.
                unsafe { run_kernel(&dev, MODULE, NAMES[1], plan) }
            });
        }
        Ok(out.put_tape(tape))
    }
}
