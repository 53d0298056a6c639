//! The device's `Dense` product, as a kernel trait (dfdx's pattern): [`DenseKernel`], and its
//! generic entry point [`try_dense`].

use dfdx::shapes::{Const, Dim, Dtype, Rank1};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

use super::Epilogue;

/// A device's `Dense` product in dtype `E`: `epilogue(x · kernel + bias)` on a tape.
///
/// Implemented for `Cpu` in `f32` by one fused op (`gemm` 0.19 kernels chosen at run time:
/// AVX-512 where the CPU has it, AVX2/FMA or scalar otherwise; no input gradient for a batch
/// marked with [`mark_data_input`](crate::kernels::mark_data_input)), for `Cuda` (`cuda` feature)
/// in `f32` by one fused op too (cuBLAS's products and two kernels of this crate, the same
/// skipped input gradient), for `Cpu` and `Cuda` in `f64` by dfdx's own ops
/// ([`dense_with_ops`](crate::kernels::dense_with_ops)). The choice is made by the impl, so it
/// costs nothing at run time. [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{DenseKernel, Epilogue};
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<1>), f64, _> = dev.tensor_from_vec(vec![2.0], (1, Const));
/// let kernel: Tensor<Rank2<1, 1>, f64, _> = dev.tensor([[3.0]]);
/// let bias: Tensor<Rank1<1>, f64, _> = dev.tensor([-7.0]);
/// let y = Cpu::try_dense(x, &kernel, &bias, Epilogue::BiasRelu)?;
/// assert_eq!(y.as_vec(), [0.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait DenseKernel<E: Dtype>: Device<E> {
    /// `epilogue(x · kernel + bias)` for a `(batch, I)` input; the result carries the input's
    /// tape with the op's backward registered on it. `I` is a compile-time width for `Dense`
    /// and a run-time one (`usize`) for `Conv2D`'s window columns.
    #[allow(clippy::type_complexity)]
    fn try_dense<B, I, const O: usize, T>(
        x: Tensor<(B, I), E, Self, T>,
        kernel: &Tensor<(I, Const<O>), E, Self>,
        bias: &Tensor<Rank1<O>, E, Self>,
        epilogue: Epilogue,
    ) -> Result<Tensor<(B, Const<O>), E, Self, T>, Self::Err>
    where
        B: Dim,
        I: Dim,
        T: Tape<E, Self>;
}

/// `epilogue(x · kernel + bias)` for a `(batch, I)` input on any tape, dtype and device with a
/// [`DenseKernel`]: the product of `Dense` and of `Conv2D` (over its gathered windows). The
/// result carries the input's tape with the op's backward registered on it.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{try_dense, Epilogue};
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![1.0, -2.0], (1, Const));
/// let kernel: Tensor<Rank2<2, 2>, f32, _> = dev.tensor([[1.0, 0.0], [0.0, 1.0]]);
/// let bias: Tensor<Rank1<2>, f32, _> = dev.tensor([0.5, 0.5]);
/// let y = try_dense(x, &kernel, &bias, Epilogue::BiasRelu)?;
/// assert_eq!(y.as_vec(), vec![1.5, 0.0]);
/// # Ok::<(), CpuError>(())
/// ```
#[allow(clippy::type_complexity)]
#[inline]
pub fn try_dense<B, I, const O: usize, E, D, T>(
    x: Tensor<(B, I), E, D, T>,
    kernel: &Tensor<(I, Const<O>), E, D>,
    bias: &Tensor<Rank1<O>, E, D>,
    epilogue: Epilogue,
) -> Result<Tensor<(B, Const<O>), E, D, T>, D::Err>
where
    B: Dim,
    I: Dim,
    E: Dtype,
    D: DenseKernel<E>,
    T: Tape<E, D>,
{
    D::try_dense(x, kernel, bias, epilogue)
}
