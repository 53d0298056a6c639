//! `Conv2D`, `MaxPooling2D` and `AveragePooling2D` with dfdx's ops: every window gathered with
//! the differentiable `gather` op (`kernels::windows`), then one product ([`try_dense`]) or a
//! maximum or mean over the window axis. The kernels of `Cpu` and `Cuda` in `f64`, and the
//! fused ops' fallback for strided or empty inputs.

use dfdx::shapes::{Axis, Const, Dim, Dtype, HasShape, Rank1, Rank4};
use dfdx::tensor::{CopySlice, NoneTape, Tape, Tensor, ZerosTensor};
use dfdx::tensor_ops::{Device, MaxTo, MeanTo, ReshapeTo, SumTo, TryAdd, TryMul};

use super::conv_kernel::Images;
use crate::kernels::windows::gather_windows;
use crate::kernels::{try_dense, DenseKernel, Epilogue};

/// `epilogue(conv(x, kernel) + bias)` with dfdx's ops (see
/// [`ConvKernel::try_conv2d`](super::ConvKernel::try_conv2d)).
#[allow(clippy::type_complexity)]
pub(crate) fn conv2d_with_ops<
    B: Dim,
    const H: usize,
    const W: usize,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
    E: Dtype,
    D: DenseKernel<E> + ZerosTensor<usize> + CopySlice<usize>,
    T: Tape<E, D>,
>(
    x: Images<B, H, W, IN, E, D, T>,
    kernel: &Tensor<Rank4<K, K, IN, OUT>, E, D>,
    bias: &Tensor<Rank1<OUT>, E, D>,
    epilogue: Epilogue,
) -> Result<Images<B, OH, OW, OUT, E, D, T>, D::Err> {
    let batch = x.shape().0;
    let n = batch.size() * OH * OW;
    let columns = gather_windows::<B, H, W, IN, K, S, P, OH, OW, E, D, T>(x)?
        .try_reshape_like(&(n, K * K * IN))?;
    // A contiguous reshape keeps the tensor's id, so the product's kernel gradient lands on
    // `kernel`'s.
    let kernel = kernel
        .clone()
        .try_reshape_like(&(K * K * IN, Const::<OUT>))?;
    try_dense(columns, &kernel, bias, epilogue)?.try_reshape_like(&(
        batch,
        Const::<OH>,
        Const::<OW>,
        Const::<OUT>,
    ))
}

/// The maximum of each `K x K` window with dfdx's ops, NaN where the window holds a NaN or an
/// infinity. dfdx's maximum skips a NaN (`f32::max`), which would hide it from the loss while
/// the layer before still multiplies its gradient by it. `windows * 0` summed per window (0, or
/// NaN for such a window) is added to the maxima (detached: it changes no gradient). In host
/// memory (`host_memory`), one sum over the windows first tells whether any is not finite, and
/// the probe runs only then; on other devices that read would wait for the device at every
/// step, so the probe always runs there. Where several elements of a window tie for the
/// maximum, each gets the gradient.
#[allow(clippy::type_complexity)]
pub(crate) fn max_pool2d_with_ops<
    B: Dim,
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
    E: Dtype,
    D: Device<E> + ZerosTensor<usize> + CopySlice<usize>,
    T: Tape<E, D>,
>(
    x: Images<B, H, W, C, E, D, T>,
    host_memory: bool,
) -> Result<Images<B, OH, OW, C, E, D, T>, D::Err> {
    let batch = x.shape().0;
    let windows = gather_windows::<B, H, W, C, K, S, 0, OH, OW, E, D, T>(x)?
        .try_reshape_like(&(batch, Const::<OH>, Const::<OW>, K * K, Const::<C>))?;
    if host_memory {
        let total = windows
            .retaped::<NoneTape>()
            .try_sum::<(), _>()?
            .as_vec()
            .first()
            .and_then(|t| t.to_f64())
            .unwrap_or(f64::NAN);
        if total.is_finite() {
            return windows.try_max::<_, Axis<3>>();
        }
    }
    let nan_probe = windows
        .retaped::<NoneTape>()
        .try_mul(E::default())?
        .try_sum::<_, Axis<3>>()?;
    windows.try_max::<_, Axis<3>>()?.try_add(nan_probe)
}

/// The mean of each `K x K` window with dfdx's ops (`try_mean`: the sum times the reciprocal of
/// `K * K`); a NaN in a window makes its mean NaN.
#[allow(clippy::type_complexity)]
pub(crate) fn avg_pool2d_with_ops<
    B: Dim,
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
    E: Dtype,
    D: Device<E> + ZerosTensor<usize> + CopySlice<usize>,
    T: Tape<E, D>,
>(
    x: Images<B, H, W, C, E, D, T>,
) -> Result<Images<B, OH, OW, C, E, D, T>, D::Err> {
    let batch = x.shape().0;
    gather_windows::<B, H, W, C, K, S, 0, OH, OW, E, D, T>(x)?
        .try_reshape_like(&(batch, Const::<OH>, Const::<OW>, K * K, Const::<C>))?
        .try_mean::<_, Axis<3>>()
}

/// `impl ConvKernel<$e> for $device` with dfdx's ops, for each listed dtype; `$host` says
/// whether the device's memory is the host's (as `KerasDevice::HOST_MEMORY`).
macro_rules! conv_kernel_with_ops {
    ($device:ty, host: $host:expr; $($e:ty),+) => {$(
        impl $crate::kernels::conv::ConvKernel<$e> for $device {
            fn try_conv2d<
                B: dfdx::shapes::Dim,
                const H: usize,
                const W: usize,
                const IN: usize,
                const OUT: usize,
                const K: usize,
                const S: usize,
                const P: usize,
                const OH: usize,
                const OW: usize,
                T: dfdx::tensor::Tape<$e, Self>,
            >(
                x: $crate::kernels::conv::conv_kernel::Images<B, H, W, IN, $e, Self, T>,
                kernel: &dfdx::tensor::Tensor<dfdx::shapes::Rank4<K, K, IN, OUT>, $e, Self>,
                bias: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<OUT>, $e, Self>,
                epilogue: $crate::kernels::Epilogue,
            ) -> Result<
                $crate::kernels::conv::conv_kernel::Images<B, OH, OW, OUT, $e, Self, T>,
                Self::Err,
            > {
                $crate::kernels::conv::with_ops::conv2d_with_ops::<
                    B, H, W, IN, OUT, K, S, P, OH, OW, $e, Self, T,
                >(x, kernel, bias, epilogue)
            }

            fn try_max_pool2d<
                B: dfdx::shapes::Dim,
                const H: usize,
                const W: usize,
                const C: usize,
                const K: usize,
                const S: usize,
                const OH: usize,
                const OW: usize,
                T: dfdx::tensor::Tape<$e, Self>,
            >(
                x: $crate::kernels::conv::conv_kernel::Images<B, H, W, C, $e, Self, T>,
            ) -> Result<
                $crate::kernels::conv::conv_kernel::Images<B, OH, OW, C, $e, Self, T>,
                Self::Err,
            > {
                $crate::kernels::conv::with_ops::max_pool2d_with_ops::<
                    B, H, W, C, K, S, OH, OW, $e, Self, T,
                >(x, $host)
            }

            fn try_avg_pool2d<
                B: dfdx::shapes::Dim,
                const H: usize,
                const W: usize,
                const C: usize,
                const K: usize,
                const S: usize,
                const OH: usize,
                const OW: usize,
                T: dfdx::tensor::Tape<$e, Self>,
            >(
                x: $crate::kernels::conv::conv_kernel::Images<B, H, W, C, $e, Self, T>,
            ) -> Result<
                $crate::kernels::conv::conv_kernel::Images<B, OH, OW, C, $e, Self, T>,
                Self::Err,
            > {
                $crate::kernels::conv::with_ops::avg_pool2d_with_ops::<
                    B, H, W, C, K, S, OH, OW, $e, Self, T,
                >(x)
            }
        }
    )+};
}

pub(super) use conv_kernel_with_ops;
