//! `Normalization`'s arithmetic with dfdx's ops: the kernels of `Cpu` and `Cuda` in `f64`, and
//! the fused ops' fallback for views that are not row-major and empty tensors.

use dfdx::shapes::{Dtype, HasShape, Rank1};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{BroadcastTo, Device, TryAdd, TryDiv, TryMul, TrySub};

use super::MIN_STD;
use crate::kernels::layer_norm::Rows;

/// `Normalization`'s arithmetic with dfdx's ops (see
/// [`NormalizeKernel`](super::NormalizeKernel)); the statistics enter without a tape, so they
/// get no gradient, as in the fused ops.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::normalize::normalize_with_ops;
///
/// let dev = Cpu::default();
/// let mean = dev.tensor([1.0f64, 0.0]);
/// let variance = dev.tensor([0.25f64, 1.0]);
/// let x: Tensor<(usize, Const<2>), f64, _> = dev.tensor_from_vec(vec![2.0, 3.0], (1, Const));
/// assert_eq!(normalize_with_ops::<2, false, _, _, _>(x, &mean, &variance)?.as_vec(), [2.0, 3.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub fn normalize_with_ops<const C: usize, const INVERT: bool, E, D, T>(
    x: Rows<C, E, D, T>,
    mean: &Tensor<Rank1<C>, E, D>,
    variance: &Tensor<Rank1<C>, E, D>,
) -> Result<Rows<C, E, D, T>, D::Err>
where
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    let shape = *x.shape();
    let std = variance
        .clone()
        .try_sqrt()?
        .try_clamp(MIN_STD, f64::INFINITY)?
        .try_broadcast_like(&shape)?;
    let mean = mean.clone().try_broadcast_like(&shape)?;
    if INVERT {
        x.try_mul(std)?.try_add(mean)
    } else {
        x.try_sub(mean)?.try_div(std)
    }
}

/// `impl NormalizeKernel<$e> for $device` with dfdx's ops, for each listed dtype.
macro_rules! normalize_kernel_with_ops {
    ($device:ty: $($e:ty),+) => {$(
        impl $crate::kernels::normalize::NormalizeKernel<$e> for $device {
            fn try_normalize<
                const C: usize,
                const INVERT: bool,
                T: dfdx::tensor::Tape<$e, Self>,
            >(
                x: $crate::kernels::layer_norm::Rows<C, $e, Self, T>,
                mean: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
                variance: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
            ) -> Result<$crate::kernels::layer_norm::Rows<C, $e, Self, T>, Self::Err> {
                $crate::kernels::normalize::normalize_with_ops::<C, INVERT, _, _, _>(
                    x, mean, variance,
                )
            }
        }
    )+};
}

pub(super) use normalize_kernel_with_ops;
