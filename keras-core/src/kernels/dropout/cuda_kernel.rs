//! Inverted dropout on `Cuda`: `dropout.cu`'s kernels on dfdx's stream, one launch each way,
//! the mask recomputed from each element's index (nothing drawn on the host or uploaded).

use cudarc::driver::{DevicePtr, DevicePtrMut, LaunchAsync};
use dfdx::shapes::{HasShape, Shape};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor};

use super::launch::{plan, DropoutDtype, NAMES};
use super::{row_major, DropoutMask, DropoutMaskKernel, KeepProbability};
use crate::kernels::cuda_function::function;

/// `dropout.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/dropout.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_dropout";

/// `DropoutMaskKernel` for `Cuda` in each listed dtype (concrete, so that the tensors' buffers
/// are known to be cudarc's slices).
macro_rules! cuda_dropout {
    ($($e:ty),+) => {$(
        impl DropoutMaskKernel<$e> for Cuda {
            fn try_masked_dropout<S: Shape, T: Tape<$e, Self>>(
                x: Tensor<S, $e, Self, T>,
                rate: f64,
                seed: u64,
            ) -> Result<Tensor<S, $e, Self, T>, CudaError> {
                let n = x.shape().num_elements();
                if n == 0 {
                    // Nothing to drop (and no empty buffer to allocate).
                    return Ok(x);
                }
                let x = row_major(x)?;
                let dev = x.device().clone();
                let mask = DropoutMask::new(rate, seed);
                let keep = <$e as KeepProbability>::keep_probability(rate);
                // Not zero-filled: the forward writes every element.
                let mut out: Tensor<S, $e, Cuda> = dev.try_unfilled_like(x.shape())?;
                let (shape, params) = plan(
                    n,
                    mask,
                    keep,
                    *x.storage().device_ptr(),
                    *out.storage_mut().device_ptr_mut(),
                );
                let forward = function(&dev, MODULE, PTX, &NAMES, <$e as DropoutDtype>::FORWARD)?;
                // SAFETY: the kernel reads the `n` elements of `x` and writes the `n` of `out`,
                // both row-major live buffers of this device of that length, on dfdx's stream.
                unsafe { forward.launch(shape.into(), params) }?;
                let (x, mut tape) = x.split_tape();
                if T::OWNS_TAPE {
                    let out = out.clone();
                    tape.add_backward_op(move |grads: &mut Gradients<$e, Cuda>| {
                        // The gradients' device addresses: a buffer stays where it is while the
                        // map holds it.
                        let g = *grads.get_or_alloc_mut(&out)?.device_ptr();
                        let gx = *grads.get_or_alloc_mut(&x)?.device_ptr();
                        let (shape, params) = plan(n, mask, keep, g, gx);
                        let backward =
                            function(&dev, MODULE, PTX, &NAMES, <$e as DropoutDtype>::BACKWARD)?;
                        // SAFETY: the kernel reads the `n` elements of the output's gradient and
                        // adds to the `n` of the input's, live buffers of this device, on dfdx's
                        // stream.
                        unsafe { backward.launch(shape.into(), params) }?;
                        Ok(())
                    });
                }
                Ok(out.put_tape(tape))
            }
        }
    )+};
}

cuda_dropout!(f32, f64);
