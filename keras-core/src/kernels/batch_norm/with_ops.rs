//! Batch normalization with dfdx's ops: the kernels of `Cpu` and `Cuda` in `f64`, and the fused
//! ops' fallback for views that are not row-major and empty batches.

use dfdx::shapes::{Axis, Dtype, HasShape, Rank1};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{BroadcastTo, Device, MeanTo, TryAdd, TryDiv, TryMul, TrySub};

use super::Moving;
use crate::kernels::layer_norm::Rows;

/// `centered · gamma / sqrt(var + epsilon) + beta`, per feature.
fn normalize<const C: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    centered: Rows<C, E, D, T>,
    var: Tensor<Rank1<C>, E, D, T>,
    gamma: &Tensor<Rank1<C>, E, D>,
    beta: &Tensor<Rank1<C>, E, D>,
    epsilon: f64,
) -> Result<Rows<C, E, D, T>, D::Err> {
    let shape = *centered.shape();
    let eps = E::from_f64(epsilon).unwrap_or_default();
    let std = var.try_add(eps)?.try_sqrt()?;
    let scale = gamma.retaped::<T>().try_div(std)?;
    let beta = beta
        .retaped::<T>()
        .try_broadcast_like::<_, Axis<0>>(&shape)?;
    centered
        .try_mul(scale.try_broadcast_like::<_, Axis<0>>(&shape)?)?
        .try_add(beta)
}

/// Training with dfdx's ops (see [`BatchNormKernel`](super::BatchNormKernel)): the batch's mean
/// and biased variance over the rows, the moving statistics' update, the normalization.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{batch_norm_train_with_ops, Moving};
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<1>), f64, _> = dev.tensor_from_vec(vec![1.0, 3.0], (2, Const));
/// let (mut mean, mut variance) = (dev.zeros(), dev.ones());
/// let moving = Moving { mean: &mut mean, variance: &mut variance, momentum: 0.0 };
/// let y = batch_norm_train_with_ops(x, &dev.ones(), &dev.zeros(), moving, 0.0)?;
/// assert_eq!(y.as_vec(), [-1.0, 1.0]);
/// assert_eq!(mean.as_vec(), [2.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub fn batch_norm_train_with_ops<const C: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Rows<C, E, D, T>,
    gamma: &Tensor<Rank1<C>, E, D>,
    beta: &Tensor<Rank1<C>, E, D>,
    moving: Moving<'_, C, E, D>,
    epsilon: f64,
) -> Result<Rows<C, E, D, T>, D::Err> {
    let shape = *x.shape();
    let m = moving.momentum;
    let mean = x.retaped::<T>().try_mean::<Rank1<C>, Axis<0>>()?;
    moving.mean.try_axpy(m, &mean, 1.0 - m)?;
    let centered = x.try_sub(mean.try_broadcast_like::<_, Axis<0>>(&shape)?)?;
    let var = centered
        .retaped::<T>()
        .try_square()?
        .try_mean::<Rank1<C>, Axis<0>>()?;
    moving.variance.try_axpy(m, &var, 1.0 - m)?;
    normalize(centered, var, gamma, beta, epsilon)
}

/// Inference with dfdx's ops (see [`BatchNormKernel`](super::BatchNormKernel)): the moving
/// statistics, which get no gradient.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::batch_norm_infer_with_ops;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<1>), f64, _> = dev.tensor_from_vec(vec![1.0, 3.0], (2, Const));
/// let (mean, variance) = (dev.tensor([1.0]), dev.tensor([4.0]));
/// let y = batch_norm_infer_with_ops(x, &dev.ones(), &dev.zeros(), &mean, &variance, 0.0)?;
/// assert_eq!(y.as_vec(), [0.0, 1.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub fn batch_norm_infer_with_ops<const C: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Rows<C, E, D, T>,
    gamma: &Tensor<Rank1<C>, E, D>,
    beta: &Tensor<Rank1<C>, E, D>,
    moving_mean: &Tensor<Rank1<C>, E, D>,
    moving_variance: &Tensor<Rank1<C>, E, D>,
    epsilon: f64,
) -> Result<Rows<C, E, D, T>, D::Err> {
    let shape = *x.shape();
    let mean = moving_mean
        .retaped::<T>()
        .try_broadcast_like::<_, Axis<0>>(&shape)?;
    normalize(
        x.try_sub(mean)?,
        moving_variance.retaped::<T>(),
        gamma,
        beta,
        epsilon,
    )
}

/// `impl BatchNormKernel<$e> for $device` with dfdx's ops, for each listed dtype.
macro_rules! batch_norm_kernel_with_ops {
    ($device:ty: $($e:ty),+) => {$(
        impl $crate::kernels::BatchNormKernel<$e> for $device {
            fn try_batch_norm_train<const C: usize, T: dfdx::tensor::Tape<$e, Self>>(
                x: $crate::kernels::layer_norm::Rows<C, $e, Self, T>,
                gamma: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
                beta: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
                moving: $crate::kernels::Moving<'_, C, $e, Self>,
                epsilon: f64,
            ) -> Result<$crate::kernels::layer_norm::Rows<C, $e, Self, T>, Self::Err> {
                $crate::kernels::batch_norm_train_with_ops(x, gamma, beta, moving, epsilon)
            }

            fn try_batch_norm_infer<const C: usize, T: dfdx::tensor::Tape<$e, Self>>(
                x: $crate::kernels::layer_norm::Rows<C, $e, Self, T>,
                gamma: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
                beta: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
                moving_mean: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
                moving_variance: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<C>, $e, Self>,
                epsilon: f64,
            ) -> Result<$crate::kernels::layer_norm::Rows<C, $e, Self, T>, Self::Err> {
                $crate::kernels::batch_norm_infer_with_ops(
                    x,
                    gamma,
                    beta,
                    moving_mean,
                    moving_variance,
                    epsilon,
                )
            }
        }
    )+};
}

pub(super) use batch_norm_kernel_with_ops;
