//! The softmax crossentropy on `Cuda`: `crossentropy.cu`'s `keras_xent_forward` (one block) and
//! `keras_xent_backward` on dfdx's stream, so the loss is one launch each way and nothing is
//! read back.

use cudarc::driver::{DevicePtr, DevicePtrMut, LaunchAsync};
use dfdx::shapes::{Const, HasShape};
use dfdx::tensor::{Cuda, CudaError, Gradients, Merge, NoneTape, PutTape, SplitTape, Tape, Tensor};

use super::launch::{self, XentBuffers, BACKWARD, FORWARD, NAMES};
use super::{softmax_crossentropy_with_ops, SoftmaxCrossentropyKernel};
use crate::kernels::cuda_function::{address, function};

/// `crossentropy.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/crossentropy.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_crossentropy";

impl SoftmaxCrossentropyKernel for Cuda {
    fn try_softmax_crossentropy<const K: usize, T>(
        logits: Tensor<(usize, Const<K>), f32, Self, T>,
        labels: &Tensor<(usize, Const<K>), f32, Self>,
        weights: Option<&Tensor<(usize,), f32, Self>>,
        divisor: f32,
    ) -> Result<Tensor<(), f32, Self, T>, CudaError>
    where
        T: Tape<f32, Self> + Merge<NoneTape>,
    {
        let rows = logits.shape().0;
        let fused = rows > 0
            && K > 0
            && labels.shape().0 == rows
            && logits.is_row_major()
            && labels.is_row_major()
            && weights.is_none_or(|w| w.shape().0 == rows && w.is_row_major());
        if !fused {
            // Views, empty batches and mismatched shapes: dfdx's ops (which report the last).
            return softmax_crossentropy_with_ops(logits, labels, weights, divisor);
        }
        let dev = logits.device().clone();
        // Not zero-filled: the forward writes both in full.
        let mut stats: Tensor<(usize,), f32, Cuda> = dev.try_unfilled_like(&(2 * rows,))?;
        let mut loss: Tensor<(), f32, Cuda> = dev.try_unfilled_like(&())?;
        let buffers = XentBuffers {
            rows,
            k: K,
            x: address(&logits),
            t: address(labels),
            w: weights.map_or(0, address),
            divisor,
            stats: *stats.storage_mut().device_ptr_mut(),
        };
        let (shape, params) = launch::forward(buffers, *loss.storage_mut().device_ptr_mut());
        // SAFETY: the kernel reads `rows × K` floats of the logits and labels and `rows` of the
        // weights when given, and writes `2 × rows` floats of `stats` and one of `loss`: live
        // row-major buffers of this device of those lengths (checked above, `stats` and `loss`
        // just allocated), on dfdx's stream after the kernels that wrote the inputs. One block
        // of the threads its tree is written for (`launch::forward`).
        unsafe { function(&dev, MODULE, PTX, &NAMES, FORWARD)?.launch(shape.into(), params) }?;
        let (logits, mut tape) = logits.split_tape();
        if T::OWNS_TAPE {
            let saved = Saved {
                logits,
                labels: labels.clone(),
                weights: weights.cloned(),
                loss: loss.clone(),
                stats,
                buffers,
            };
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| saved.backward(grads));
        }
        Ok(loss.put_tape(tape))
    }
}

/// What the backward needs, kept alive by the tape (the buffers' addresses are theirs).
struct Saved<const K: usize> {
    logits: Tensor<(usize, Const<K>), f32, Cuda>,
    labels: Tensor<(usize, Const<K>), f32, Cuda>,
    weights: Option<Tensor<(usize,), f32, Cuda>>,
    loss: Tensor<(), f32, Cuda>,
    stats: Tensor<(usize,), f32, Cuda>,
    buffers: XentBuffers,
}

impl<const K: usize> Saved<K> {
    /// Adds to the logits' gradient.
    fn backward(self, grads: &mut Gradients<f32, Cuda>) -> Result<(), CudaError> {
        let dev = self.logits.device().clone();
        // The gradients' device addresses: a buffer stays where it is while the map holds it.
        let upstream = *grads.get_or_alloc_mut(&self.loss)?.device_ptr();
        let grad = *grads.get_or_alloc_mut(&self.logits)?.device_ptr();
        let (shape, params) = launch::backward(self.buffers, upstream, grad);
        // SAFETY: the kernel reads the logits, labels, weights and statistics the forward read
        // and wrote (kept alive by `self` until the launch is queued, and in dfdx's cache only
        // for launches queued after it) and one float of the loss's gradient, and adds to the
        // `rows × K` floats of the logits' gradient, all on dfdx's stream.
        unsafe { function(&dev, MODULE, PTX, &NAMES, BACKWARD)?.launch(shape.into(), params) }?;
        drop((self.labels, self.weights, self.stats));
        Ok(())
    }
}
