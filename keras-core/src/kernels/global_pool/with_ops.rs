//! Global average pooling with dfdx's mean: the kernels of `Cpu` and `Cuda` in `f64`, and the
//! fused ops' fallback for views that are not row-major and empty tensors.

use dfdx::shapes::{Axis, Dim, Dtype};
use dfdx::tensor::Tape;
use dfdx::tensor_ops::{Device, MeanTo};

use super::{Pooled, Steps};

/// The mean of `x` over its steps with dfdx's `mean` (see
/// [`GlobalPoolKernel`](super::GlobalPoolKernel)).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::global_pool::global_avg_pool_with_ops;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, usize, Const<2>), f64, _> =
///     dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 6.0], (1, 2, Const));
/// assert_eq!(global_avg_pool_with_ops(x)?.as_vec(), [2.0, 4.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub fn global_avg_pool_with_ops<B: Dim, const C: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Steps<B, C, E, D, T>,
) -> Result<Pooled<B, C, E, D, T>, D::Err> {
    x.try_mean::<_, Axis<1>>()
}

/// `impl GlobalPoolKernel<$e> for $device` with dfdx's mean, for each listed dtype.
macro_rules! global_pool_kernel_with_ops {
    ($device:ty: $($e:ty),+) => {$(
        impl $crate::kernels::global_pool::GlobalPoolKernel<$e> for $device {
            fn try_global_avg_pool<
                B: dfdx::shapes::Dim,
                const C: usize,
                T: dfdx::tensor::Tape<$e, Self>,
            >(
                x: $crate::kernels::global_pool::Steps<B, C, $e, Self, T>,
            ) -> Result<$crate::kernels::global_pool::Pooled<B, C, $e, Self, T>, Self::Err> {
                $crate::kernels::global_pool::global_avg_pool_with_ops(x)
            }
        }
    )+};
}

pub(super) use global_pool_kernel_with_ops;
