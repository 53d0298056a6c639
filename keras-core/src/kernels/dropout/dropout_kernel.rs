//! The device's inverted dropout with a counter-based mask, as a kernel trait (dfdx's pattern):
//! [`DropoutMaskKernel`], and its generic entry point [`try_masked_dropout`].

use dfdx::shapes::{Dtype, HasShape, Shape};
use dfdx::tensor::{CpuError, Tape, Tensor};
use dfdx::tensor_ops::{Device, ReshapeTo};

/// A device's inverted dropout in dtype `E`: `y = mask ? x / (1 - rate) : 0` on a tape, the
/// mask a [`DropoutMask`](crate::kernels::DropoutMask) of `rate` and `seed`, and the gradient
/// `mask ? g / (1 - rate) : 0` added to the input's.
///
/// Implemented for `Cpu` (elements split across rayon's threads) and `Cuda` (`dropout.cu`, one
/// kernel each way), in `f32` and `f64`. Both draw the same mask from the same seed, and no mask
/// is stored or uploaded: each element's draw is recomputed from its index. (dfdx's own dropout
/// draws every mask with a host generator, and on `Cuda` uploads it, forward and backward.)
/// A view that is not row-major (broadcast, permuted) is first copied row-major on its tape
/// (`row_major`), so the mask indexes elements in row-major order whatever the strides.
/// [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{DropoutMask, DropoutMaskKernel};
///
/// let dev = Cpu::default();
/// let x: Tensor<Rank1<6>, f32, _> = dev.tensor([1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// let y = Cpu::try_masked_dropout(x.leaky_trace(), 0.5, 9)?;
/// let mask = DropoutMask::new(0.5, 9);
/// for (i, (y, x)) in y.as_vec().iter().zip(x.as_vec()).enumerate() {
///     assert_eq!(*y, if mask.keeps(i as u64) { x / 0.5 } else { 0.0 });
/// }
/// # Ok::<(), CpuError>(())
/// ```
pub trait DropoutMaskKernel<E: Dtype>: Device<E> {
    /// Inverted dropout of `x` at `rate` with the mask of `seed`; the result carries `x`'s tape
    /// with the op's backward registered on it.
    fn try_masked_dropout<S: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
        rate: f64,
        seed: u64,
    ) -> Result<Tensor<S, E, Self, T>, Self::Err>;
}

/// Inverted dropout with a counter-based mask on any device and dtype with a
/// [`DropoutMaskKernel`] (see there).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::try_masked_dropout;
///
/// let dev = Cpu::default();
/// let x: Tensor<Rank1<4>, f64, _> = dev.ones();
/// let y = try_masked_dropout(x, 0.0, 1)?;
/// assert_eq!(y.array(), [1.0; 4]);
/// # Ok::<(), CpuError>(())
/// ```
#[inline]
pub fn try_masked_dropout<S: Shape, E: Dtype, D: DropoutMaskKernel<E>, T: Tape<E, D>>(
    x: Tensor<S, E, D, T>,
    rate: f64,
    seed: u64,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    D::try_masked_dropout(x, rate, seed)
}

/// `x` itself when its buffer reads as a row-major array, else a row-major copy on its tape
/// (dfdx's reshape to its own shape, whose backward takes the gradient back through the view).
///
/// # Errors
/// The device's error when the copy fails, or when `x`'s strides are row-major but its buffer
/// holds more than its elements (dfdx's ops make no such tensor).
pub(crate) fn row_major<S, E, D, T>(x: Tensor<S, E, D, T>) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: Device<E>,
    D::Err: From<CpuError>,
    T: Tape<E, D>,
{
    if x.is_row_major() {
        return Ok(x);
    }
    let shape = *x.shape();
    let copy = x.try_reshape_like(&shape)?;
    if copy.is_row_major() {
        Ok(copy)
    } else {
        Err(CpuError::WrongNumElements.into())
    }
}

/// The divisor of the kept elements, `1 - rate` in the dtype (Keras's `keep_prob`), for the
/// dtypes the kernels run in.
pub(crate) trait KeepProbability {
    /// `1 - rate` in this dtype.
    fn keep_probability(rate: f64) -> Self;
}

impl KeepProbability for f32 {
    fn keep_probability(rate: f64) -> Self {
        (1.0 - rate) as f32
    }
}

impl KeepProbability for f64 {
    fn keep_probability(rate: f64) -> Self {
        1.0 - rate
    }
}
