//! The device's layer normalization, as a kernel trait (dfdx's pattern): [`LayerNormKernel`],
//! and its generic entry point [`try_layer_norm`].

use dfdx::shapes::{Const, Dtype, Rank1};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

/// A batch of `M`-feature rows: `(rows, M)`.
pub type Rows<const M: usize, E, D, T> = Tensor<(usize, Const<M>), E, D, T>;

/// A device's layer normalization in dtype `E` over the last axis of a `(rows, M)` batch, on a
/// tape: `y = (x - mean) / sqrt(var + epsilon) · gamma + beta`, with each row's mean and biased
/// variance. The backward adds to the input's, `gamma`'s and `beta`'s gradients.
///
/// Implemented for `Cpu` and `Cuda` (`cuda` feature) in `f32` by one op each (the rows'
/// statistics kept between the passes), and in `f64` by dfdx's ops
/// ([`layer_norm_with_ops`](crate::kernels::layer_norm_with_ops)).
/// [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::LayerNormKernel;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![1.0, 3.0], (1, Const));
/// let gamma: Tensor<Rank1<2>, f32, _> = dev.tensor([2.0, 2.0]);
/// let beta: Tensor<Rank1<2>, f32, _> = dev.tensor([0.0, 1.0]);
/// // mean 2, variance 1: (x - 2) / sqrt(1 + 0) · 2 + beta
/// let y = Cpu::try_layer_norm(x, &gamma, &beta, 0.0)?;
/// assert_eq!(y.as_vec(), [-2.0, 3.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait LayerNormKernel<E: Dtype>: Device<E> {
    /// The layer normalization of each row of `x`; the result carries `x`'s tape with the op's
    /// backward registered on it.
    fn try_layer_norm<const M: usize, T: Tape<E, Self>>(
        x: Rows<M, E, Self, T>,
        gamma: &Tensor<Rank1<M>, E, Self>,
        beta: &Tensor<Rank1<M>, E, Self>,
        epsilon: f64,
    ) -> Result<Rows<M, E, Self, T>, Self::Err>;
}

/// Layer normalization on any device and dtype with a [`LayerNormKernel`] (see there).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::try_layer_norm;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<3>), f64, _> = dev.tensor_from_vec(vec![5.0; 3], (1, Const));
/// // a constant row: every value is its mean, so the output is beta
/// let y = try_layer_norm(x, &dev.ones(), &dev.tensor([1.0, 2.0, 3.0]), 1e-3)?;
/// assert_eq!(y.as_vec(), [1.0, 2.0, 3.0]);
/// # Ok::<(), CpuError>(())
/// ```
#[inline]
pub fn try_layer_norm<const M: usize, E: Dtype, D: LayerNormKernel<E>, T: Tape<E, D>>(
    x: Rows<M, E, D, T>,
    gamma: &Tensor<Rank1<M>, E, D>,
    beta: &Tensor<Rank1<M>, E, D>,
    epsilon: f64,
) -> Result<Rows<M, E, D, T>, D::Err> {
    D::try_layer_norm(x, gamma, beta, epsilon)
}
