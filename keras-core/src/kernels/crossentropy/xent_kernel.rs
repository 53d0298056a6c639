//! The device's softmax crossentropy, as a kernel trait (dfdx's pattern):
//! [`SoftmaxCrossentropyKernel`], and its generic entry point [`try_softmax_crossentropy`].

use dfdx::shapes::Const;
use dfdx::tensor::{Merge, NoneTape, Tape, Tensor};
use dfdx::tensor_ops::Device;

/// A device's softmax crossentropy reduced to the loss, on a tape: for `rows × K` logits `x`
/// and labels `t` (dense rows: one-hot for sparse labels, smoothed if asked), per-row weights
/// `w` (1 when `None`) and a `divisor`,
/// `sum_r w_r · -sum_k t_rk · log_softmax(x_r)_k / divisor` (times 0 when `divisor` is 0).
///
/// Implemented for `Cpu` and for `Cuda` (`cuda` feature) by one op each, forward and backward,
/// whose backward adds `upstream · w_r / divisor · (softmax(x_r)_k · sum_k t_rk - t_rk)` to the
/// logits' gradient; views that are not row-major and empty batches go to dfdx's ops
/// ([`softmax_crossentropy_with_ops`](crate::kernels::softmax_crossentropy_with_ops)).
/// [`KerasDevice`](crate::device::KerasDevice) requires it.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::SoftmaxCrossentropyKernel;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![0.0, 0.0], (1, Const));
/// let t = dev.tensor_from_vec(vec![1.0, 0.0], (1, Const::<2>));
/// let loss = Cpu::try_softmax_crossentropy(x.leaky_trace(), &t, None, 1.0)?;
/// assert!((loss.array() - std::f32::consts::LN_2).abs() < 1e-6);
/// let grads = loss.backward();
/// assert_eq!(grads.get(&x).as_vec(), [-0.5, 0.5]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait SoftmaxCrossentropyKernel: Device<f32> {
    /// The loss of `logits` (on its tape) against `labels`; the result carries the logits' tape
    /// with the op's backward registered on it.
    fn try_softmax_crossentropy<const K: usize, T>(
        logits: Tensor<(usize, Const<K>), f32, Self, T>,
        labels: &Tensor<(usize, Const<K>), f32, Self>,
        weights: Option<&Tensor<(usize,), f32, Self>>,
        divisor: f32,
    ) -> Result<Tensor<(), f32, Self, T>, Self::Err>
    where
        T: Tape<f32, Self> + Merge<NoneTape>;
}

/// The softmax crossentropy of `logits` against `labels` on any device with a
/// [`SoftmaxCrossentropyKernel`] (see there).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::try_softmax_crossentropy;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![1.0, 1.0, 0.0, 0.0], (2, Const));
/// let t = dev.tensor_from_vec(vec![0.0, 1.0, 1.0, 0.0], (2, Const::<2>));
/// let w = dev.tensor_from_vec(vec![1.0, 0.0], (2,));
/// let loss = try_softmax_crossentropy(x, &t, Some(&w), 1.0)?;
/// assert!((loss.array() - std::f32::consts::LN_2).abs() < 1e-6);
/// # Ok::<(), CpuError>(())
/// ```
#[inline]
pub fn try_softmax_crossentropy<const K: usize, D, T>(
    logits: Tensor<(usize, Const<K>), f32, D, T>,
    labels: &Tensor<(usize, Const<K>), f32, D>,
    weights: Option<&Tensor<(usize,), f32, D>>,
    divisor: f32,
) -> Result<Tensor<(), f32, D, T>, D::Err>
where
    D: SoftmaxCrossentropyKernel,
    T: Tape<f32, D> + Merge<NoneTape>,
{
    D::try_softmax_crossentropy(logits, labels, weights, divisor)
}
