//! The device's global average pooling, as a kernel trait (dfdx's pattern):
//! [`GlobalPoolKernel`], and its generic entry point [`try_global_avg_pool`].

use dfdx::shapes::{Const, Dim, Dtype};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

/// A batch of sequences of `C`-channel steps: `(batch, steps, C)`.
pub type Steps<B, const C: usize, E, D, T> = Tensor<(B, usize, Const<C>), E, D, T>;

/// A batch of `C` channels pooled from [`Steps`]: `(batch, C)`.
pub type Pooled<B, const C: usize, E, D, T> = Tensor<(B, Const<C>), E, D, T>;

/// A device's global average pooling in dtype `E` on a tape: `y[b, c]` is the mean of
/// `x[b, s, c]` over the steps `s` (the channel's sum in step order, divided by their count, as
/// `jnp.mean`). The backward adds `g[b, c] / steps` to every step's gradient.
///
/// Implemented for `Cpu` and `Cuda` (`cuda` feature) in `f32` by one op each, the same sums in
/// the same order on both, and in `f64` by dfdx's mean
/// ([`global_avg_pool_with_ops`](super::global_avg_pool_with_ops)).
/// [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::global_pool::GlobalPoolKernel;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, usize, Const<2>), f32, _> =
///     dev.tensor_from_vec(vec![1.0, 10.0, 2.0, 20.0, 6.0, 0.0], (1, 3, Const));
/// let y = Cpu::try_global_avg_pool(x.leaky_trace())?;
/// assert_eq!(y.retaped::<NoneTape>().as_vec(), [3.0, 10.0]);
/// let grads = y.sum().backward();
/// assert_eq!(grads.get(&x).as_vec(), [1.0 / 3.0; 6]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait GlobalPoolKernel<E: Dtype>: Device<E> {
    /// The mean of `x` over its steps; the result carries `x`'s tape with the op's backward
    /// registered on it.
    fn try_global_avg_pool<B: Dim, const C: usize, T: Tape<E, Self>>(
        x: Steps<B, C, E, Self, T>,
    ) -> Result<Pooled<B, C, E, Self, T>, Self::Err>;
}

/// Global average pooling on any device and dtype with a [`GlobalPoolKernel`] (see there).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::global_pool::try_global_avg_pool;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, usize, Const<1>), f64, _> =
///     dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0], (2, 2, Const));
/// assert_eq!(try_global_avg_pool(x)?.as_vec(), [1.5, 3.5]);
/// # Ok::<(), CpuError>(())
/// ```
#[inline]
pub fn try_global_avg_pool<B, const C: usize, E, D, T>(
    x: Steps<B, C, E, D, T>,
) -> Result<Pooled<B, C, E, D, T>, D::Err>
where
    B: Dim,
    E: Dtype,
    D: GlobalPoolKernel<E>,
    T: Tape<E, D>,
{
    D::try_global_avg_pool(x)
}
