//! Layer normalization with dfdx's ops: the kernels of `Cpu` and `Cuda` in `f64`, and the
//! fused ops' fallback for views that are not row-major and empty batches.

use dfdx::shapes::{Axis, Dtype, HasShape, Rank1};
use dfdx::tensor::{Tape, Tensor};

use super::Rows;
use dfdx::tensor_ops::{BroadcastTo, Device, TryAdd, TryMul};

/// `normalize(x) · gamma + beta` with dfdx's ops (see
/// [`LayerNormKernel`](super::LayerNormKernel)): dfdx's `normalize` (mean, centring, mean of
/// squares, `sqrt(var + epsilon)`, division), then the broadcast product and sum.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::layer_norm_with_ops;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f64, _> = dev.tensor_from_vec(vec![1.0, 3.0], (1, Const));
/// let y = layer_norm_with_ops(x, &dev.ones(), &dev.zeros(), 0.0)?;
/// assert_eq!(y.as_vec(), [-1.0, 1.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub fn layer_norm_with_ops<const M: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Rows<M, E, D, T>,
    gamma: &Tensor<Rank1<M>, E, D>,
    beta: &Tensor<Rank1<M>, E, D>,
    epsilon: f64,
) -> Result<Rows<M, E, D, T>, D::Err> {
    let shape = *x.shape();
    let gamma = gamma
        .retaped::<T>()
        .try_broadcast_like::<_, Axis<0>>(&shape)?;
    let beta = beta
        .retaped::<T>()
        .try_broadcast_like::<_, Axis<0>>(&shape)?;
    x.try_normalize::<Axis<1>>(epsilon)?
        .try_mul(gamma)?
        .try_add(beta)
}

/// `impl LayerNormKernel<$e> for $device` with dfdx's ops, for each listed dtype.
macro_rules! layer_norm_kernel_with_ops {
    ($device:ty: $($e:ty),+) => {$(
        impl $crate::kernels::LayerNormKernel<$e> for $device {
            fn try_layer_norm<const M: usize, T: dfdx::tensor::Tape<$e, Self>>(
                x: $crate::kernels::layer_norm::Rows<M, $e, Self, T>,
                gamma: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<M>, $e, Self>,
                beta: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<M>, $e, Self>,
                epsilon: f64,
            ) -> Result<$crate::kernels::layer_norm::Rows<M, $e, Self, T>, Self::Err> {
                $crate::kernels::layer_norm_with_ops(x, gamma, beta, epsilon)
            }
        }
    )+};
}

pub(super) use layer_norm_kernel_with_ops;
