//! The device-dispatched product of a `Dense` layer: `x · kernel + bias`, then an optional ReLU.

use dfdx::shapes::{Const, Dim, Dtype, HasShape, Rank1, Rank2};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{BroadcastTo, Device, TryAdd, TryMatMul};

/// What follows the product `x · kernel` inside a fused `Dense` op.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{DenseKernel, Epilogue};
///
/// let dev = Cpu::default();
/// let kernel: Tensor<Rank2<1, 1>, f32, _> = dev.tensor([[1.0]]);
/// let bias: Tensor<Rank1<1>, f32, _> = dev.tensor([-1.0]);
/// let x = || dev.tensor_from_vec(vec![0.5f32], (1usize, Const::<1>));
/// assert_eq!(Cpu::try_dense(x(), &kernel, &bias, Epilogue::Bias)?.as_vec(), [-0.5]);
/// assert_eq!(Cpu::try_dense(x(), &kernel, &bias, Epilogue::BiasRelu)?.as_vec(), [0.0]);
/// # Ok::<(), CpuError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epilogue {
    /// `x · kernel + bias`.
    Bias,
    /// `relu(x · kernel + bias)`, with gradient 0 at 0 as Keras and dfdx.
    BiasRelu,
}

/// A device that runs `Dense`'s forward and backward: [`Cpu`](dfdx::tensor::Cpu) has a fused
/// `f32` fast path (one op on the tape; `gemm` 0.19 kernels chosen at run time, AVX-512 where the
/// CPU has it), every other dtype and device uses dfdx's own ops ([`dense_with_ops`]), e.g.
/// cuBLAS on `Cuda`.
///
/// Implemented for `Cpu` (`f32`, `f64`) and, with the `cuda` feature, for `Cuda`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{DenseKernel, Epilogue};
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![1.0, -2.0], (1, Const));
/// let kernel: Tensor<Rank2<2, 2>, f32, _> = dev.tensor([[1.0, 0.0], [0.0, 1.0]]);
/// let bias: Tensor<Rank1<2>, f32, _> = dev.tensor([0.5, 0.5]);
/// let y = Cpu::try_dense(x, &kernel, &bias, Epilogue::BiasRelu)?;
/// assert_eq!(y.as_vec(), vec![1.5, 0.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait DenseKernel<E: Dtype>: Device<E> {
    /// `epilogue(x · kernel + bias)` for a `(batch, I)` input on any tape; the result carries
    /// the input's tape with the op's backward registered on it.
    #[allow(clippy::type_complexity)]
    fn try_dense<B: Dim, const I: usize, const O: usize, T: Tape<E, Self>>(
        x: Tensor<(B, Const<I>), E, Self, T>,
        kernel: &Tensor<Rank2<I, O>, E, Self>,
        bias: &Tensor<Rank1<O>, E, Self>,
        epilogue: Epilogue,
    ) -> Result<Tensor<(B, Const<O>), E, Self, T>, Self::Err> {
        dense_with_ops(x, kernel, bias, epilogue)
    }
}

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
pub fn dense_with_ops<B, const I: usize, const O: usize, E, D, T>(
    x: Tensor<(B, Const<I>), E, D, T>,
    kernel: &Tensor<Rank2<I, O>, E, D>,
    bias: &Tensor<Rank1<O>, E, D>,
    epilogue: Epilogue,
) -> Result<Tensor<(B, Const<O>), E, D, T>, D::Err>
where
    B: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
{
    let y = x.try_matmul(kernel.retaped::<T>())?;
    let shape = *y.shape();
    let y = y.try_add(bias.retaped::<T>().try_broadcast_like(&shape)?)?;
    match epilogue {
        Epilogue::Bias => Ok(y),
        Epilogue::BiasRelu => y.try_relu(),
    }
}

impl DenseKernel<f64> for dfdx::tensor::Cpu {}

#[cfg(feature = "cuda")]
impl<E: Dtype> DenseKernel<E> for dfdx::tensor::Cuda where dfdx::tensor::Cuda: Device<E> {}
