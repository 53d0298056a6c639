//! The device's `Normalization` arithmetic, as a kernel trait (dfdx's pattern):
//! [`NormalizeKernel`], and its generic entry point [`try_normalize`].

use dfdx::shapes::{Dtype, Rank1};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

use crate::kernels::layer_norm::Rows;

/// Keras's `backend.epsilon()`: the smallest standard deviation `Normalization` divides by (or,
/// inverted, multiplies by).
pub const MIN_STD: f64 = 1e-7;

/// A device's `Normalization` in dtype `E` on a tape, over `(rows, C)` features: with
/// `s[c] = max(sqrt(variance[c]), MIN_STD)`, `y[r, c] = (x[r, c] - mean[c]) / s[c]`, or with
/// `INVERT` (Keras's `invert=True`) `y[r, c] = x[r, c] · s[c] + mean[c]`; each a separate
/// rounding, as dfdx's ops and Keras compute them.
///
/// The mean and the variance are constants: they get no gradient. The backward adds
/// `(1 / s[c]) · g[r, c]` (inverted: `s[c] · g[r, c]`) to the input's gradient, as dfdx's
/// division (multiplication) does, unless the input is the batch marked with
/// [`mark_data_input`](crate::kernels::mark_data_input).
///
/// Implemented for `Cpu` and `Cuda` (`cuda` feature) in `f32` by one op each, the same
/// arithmetic on both, and in `f64` by dfdx's ops
/// ([`normalize_with_ops`](super::normalize_with_ops)).
/// [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::normalize::NormalizeKernel;
///
/// let dev = Cpu::default();
/// let mean = dev.tensor([1.0f32, -2.0]);
/// let variance = dev.tensor([4.0f32, 0.0]);
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![5.0, -2.0], (1, Const));
/// let y = Cpu::try_normalize::<2, false, _>(x.leaky_trace(), &mean, &variance)?;
/// assert_eq!(y.retaped::<NoneTape>().as_vec(), [2.0, 0.0]);
/// let grads = y.sum().backward();
/// assert_eq!(grads.get(&x).as_vec(), [0.5, 1e7]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait NormalizeKernel<E: Dtype>: Device<E> {
    /// `x` normalized (or, with `INVERT`, denormalized) by `mean` and `variance`; the result
    /// carries `x`'s tape with the op's backward registered on it.
    fn try_normalize<const C: usize, const INVERT: bool, T: Tape<E, Self>>(
        x: Rows<C, E, Self, T>,
        mean: &Tensor<Rank1<C>, E, Self>,
        variance: &Tensor<Rank1<C>, E, Self>,
    ) -> Result<Rows<C, E, Self, T>, Self::Err>;
}

/// `Normalization`'s arithmetic on any device and dtype with a [`NormalizeKernel`] (see there).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::normalize::try_normalize;
///
/// let dev = Cpu::default();
/// let mean = dev.tensor([10.0f64]);
/// let variance = dev.tensor([9.0f64]);
/// let x: Tensor<(usize, Const<1>), f64, _> = dev.tensor_from_vec(vec![1.0, 2.0], (2, Const));
/// assert_eq!(try_normalize::<1, true, _, _, _>(x, &mean, &variance)?.as_vec(), [13.0, 16.0]);
/// # Ok::<(), CpuError>(())
/// ```
#[inline]
pub fn try_normalize<const C: usize, const INVERT: bool, E, D, T>(
    x: Rows<C, E, D, T>,
    mean: &Tensor<Rank1<C>, E, D>,
    variance: &Tensor<Rank1<C>, E, D>,
) -> Result<Rows<C, E, D, T>, D::Err>
where
    E: Dtype,
    D: NormalizeKernel<E>,
    T: Tape<E, D>,
{
    D::try_normalize::<C, INVERT, T>(x, mean, variance)
}
