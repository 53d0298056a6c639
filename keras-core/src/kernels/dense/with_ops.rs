//! `Dense`'s product with dfdx's own ops: the kernel of every device and dtype without a fused
//! one.

use dfdx::shapes::{Const, Dim, Dtype, HasShape, Rank1};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{BroadcastTo, Device, TryAdd, TryMatMul};

use super::Epilogue;

/// `Dense`'s product with dfdx's ops (matmul, broadcast add, relu): the path of every device and
/// dtype without a fused kernel.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{dense_with_ops, Epilogue};
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f64, _> = dev.tensor_from_vec(vec![1.0, -2.0], (1, Const));
/// let kernel: Tensor<Rank2<2, 1>, f64, _> = dev.tensor([[1.0], [1.0]]);
/// let bias: Tensor<Rank1<1>, f64, _> = dev.tensor([0.25]);
/// let y = dense_with_ops(x, &kernel, &bias, Epilogue::Bias)?;
/// assert_eq!(y.as_vec(), vec![-0.75]);
/// # Ok::<(), CpuError>(())
/// ```
#[allow(clippy::type_complexity)]
pub fn dense_with_ops<B, I, const O: usize, E, D, T>(
    x: Tensor<(B, I), E, D, T>,
    kernel: &Tensor<(I, Const<O>), E, D>,
    bias: &Tensor<Rank1<O>, E, D>,
    epilogue: Epilogue,
) -> Result<Tensor<(B, Const<O>), E, D, T>, D::Err>
where
    B: Dim,
    I: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    let y = x.try_matmul(kernel.retaped::<T>())?;
    let shape = *y.shape();
    let y = y.try_add(bias.retaped::<T>().try_broadcast_like(&shape)?)?;
    match epilogue {
        Epilogue::Bias => Ok(y),
        Epilogue::BiasRelu => crate::kernels::relu_keeping_nan(y),
    }
}

/// Implements [`DenseKernel`](super::DenseKernel) for a device in the given dtypes with
/// [`dense_with_ops`].
macro_rules! dense_kernel_with_ops {
    ($device:ty: $($dtype:ty),+) => {
        $(
            impl $crate::kernels::DenseKernel<$dtype> for $device {
                #[inline]
                fn try_dense<B, I, const O: usize, T>(
                    x: dfdx::tensor::Tensor<(B, I), $dtype, Self, T>,
                    kernel: &dfdx::tensor::Tensor<(I, dfdx::shapes::Const<O>), $dtype, Self>,
                    bias: &dfdx::tensor::Tensor<dfdx::shapes::Rank1<O>, $dtype, Self>,
                    epilogue: $crate::kernels::Epilogue,
                ) -> Result<
                    dfdx::tensor::Tensor<(B, dfdx::shapes::Const<O>), $dtype, Self, T>,
                    Self::Err,
                >
                where
                    B: dfdx::shapes::Dim,
                    I: dfdx::shapes::Dim,
                    T: dfdx::tensor::Tape<$dtype, Self>,
                {
                    $crate::kernels::dense_with_ops(x, kernel, bias, epilogue)
                }
            }
        )+
    };
}

pub(super) use dense_kernel_with_ops;
