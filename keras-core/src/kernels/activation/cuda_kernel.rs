//! The activations on `Cuda`: in `f32` `activation.cu`'s kernels on dfdx's stream, one launch
//! each way; in `f64` chains of dfdx's ops.

use dfdx::shapes::{HasShape, Shape};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor};

use super::launch::{backward, forward, NAMES};
use super::{activation_with_ops, Activation, ActivationKernel};
use crate::kernels::cuda_function::{address, grad_address, run_kernel};
use crate::kernels::dense::is_data_input;

/// `activation.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/activation.ptx"));

/// The module the kernels are loaded under, its PTX and its kernels.
const MODULE: (&str, &str, &[&str]) = ("keras_activation", PTX, &NAMES);

impl ActivationKernel<f64> for Cuda {
    fn try_activation<S: Shape, T: Tape<f64, Self>>(
        x: Tensor<S, f64, Self, T>,
        f: Activation,
    ) -> Result<Tensor<S, f64, Self, T>, CudaError> {
        activation_with_ops(x, f)
    }
}

/// The fused op. A view that is not row-major and an empty tensor go to dfdx's ops. No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl ActivationKernel<f32> for Cuda {
    fn try_activation<S: Shape, T: Tape<f32, Self>>(
        x: Tensor<S, f32, Self, T>,
        f: Activation,
    ) -> Result<Tensor<S, f32, Self, T>, CudaError> {
        let shape = *x.shape();
        let n = shape.num_elements();
        if !x.is_row_major() || n == 0 {
            return activation_with_ops(x, f);
        }
        let dev = x.device().clone();
        // Not zero-filled: the kernel writes every value.
        let out: Tensor<S, f32, Cuda> = dev.try_unfilled_like(&shape)?;
        // SAFETY: the kernel reads the `n` values of `x` and writes the `n` of `out`: row-major
        // live buffers of this device of that length (`is_row_major`, the allocation above),
        // `out` borrowed by nobody else.
        unsafe {
            run_kernel(
                &dev,
                MODULE,
                NAMES[0],
                forward(n, f, address(&x), address(&out)),
            )
        }?;
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let out = out.clone();
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| {
                // The data batch (marked in the gradients its tape carries) gets no gradient.
                if is_data_input(grads, &x) {
                    return Ok(());
                }
                let g = grad_address(grads, &out)?;
                let gx = grad_address(grads, &x)?;
                let plan = backward(n, f, address(&x), g, gx);
                // SAFETY: the kernel reads the `n` values of `x` and of the output's gradient
                // and adds to the `n` of the input's: live buffers of this device of that
                // length, on dfdx's stream.
                unsafe { run_kernel(&dev, MODULE, NAMES[1], plan) }
            });
        }
        Ok(out.put_tape(tape))
    }
}
