//! The device-dispatched product of a `Dense` layer: `x · kernel + bias`, then an optional ReLU.

use std::any::TypeId;

use dfdx::nn::Module;
use dfdx::shapes::{Const, Dim, Dtype, HasShape, Rank1, Shape};
use dfdx::tensor::{Cpu, Tape, Tensor};
use dfdx::tensor_ops::{BroadcastTo, Device, TryAdd, TryMatMul};

use crate::layers::ReLU;

/// What follows the product `x · kernel` inside a fused `Dense` op.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{try_dense, Epilogue};
///
/// let dev = Cpu::default();
/// let kernel: Tensor<Rank2<1, 1>, f32, _> = dev.tensor([[1.0]]);
/// let bias: Tensor<Rank1<1>, f32, _> = dev.tensor([-1.0]);
/// let x = || dev.tensor_from_vec(vec![0.5f32], (1usize, Const::<1>));
/// assert_eq!(try_dense(x(), &kernel, &bias, Epilogue::Bias)?.as_vec(), [-0.5]);
/// assert_eq!(try_dense(x(), &kernel, &bias, Epilogue::BiasRelu)?.as_vec(), [0.0]);
/// # Ok::<(), CpuError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epilogue {
    /// `x · kernel + bias`.
    Bias,
    /// `relu(x · kernel + bias)`, with gradient 0 at 0 as Keras and dfdx.
    BiasRelu,
}

/// `epilogue(x · kernel + bias)` for a `(batch, I)` input on any tape, dtype and device; the
/// result carries the input's tape with the op's backward registered on it. `I` is a
/// compile-time width for `Dense` and a run-time one (`usize`) for `Conv2D`'s window columns.
///
/// On [`Cpu`] in `f32` it is one fused op (`gemm` 0.19 kernels chosen at run time: AVX-512 where
/// the CPU has it, AVX2/FMA or scalar otherwise; no input gradient for a batch marked with
/// [`mark_data_input`](super::mark_data_input)). Every other dtype and device (`Cuda`: cuBLAS)
/// runs dfdx's own ops ([`dense_with_ops`]). The choice is made from the types, so it costs a
/// comparison of two constants that the compiler folds.
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
    D: Device<E>,
    T: Tape<E, D>,
{
    if is_cpu_f32::<E, D>() {
        super::cpu_dense::try_dense_cpu_f32(x, kernel, bias, epilogue)
    } else {
        dense_with_ops(x, kernel, bias, epilogue)
    }
}

/// `activation(reshape(x · kernel + bias))`, the forward of `Dense` and `Conv2D`: a
/// [`ReLU`] activation is folded into [`try_dense`]'s epilogue (one op, no separate ReLU pass),
/// any other activation runs after the product. `reshape` gives the product the layer's output
/// shape (`Ok` for `Dense`; `Conv2D`'s `(batch, OH, OW, OUT)`).
#[allow(clippy::type_complexity)]
pub(crate) fn try_dense_activated<B, I, const O: usize, E, D, T, S, A>(
    x: Tensor<(B, I), E, D, T>,
    kernel: &Tensor<(I, Const<O>), E, D>,
    bias: &Tensor<Rank1<O>, E, D>,
    activation: &A,
    reshape: impl FnOnce(Tensor<(B, Const<O>), E, D, T>) -> Result<Tensor<S, E, D, T>, D::Err>,
) -> Result<A::Output, D::Err>
where
    B: Dim,
    I: Dim,
    E: Dtype,
    D: Device<E>,
    T: Tape<E, D>,
    S: Shape,
    A: Module<Tensor<S, E, D, T>, Error = D::Err> + 'static,
{
    let folded = TypeId::of::<A>() == TypeId::of::<ReLU>();
    let epilogue = if folded {
        Epilogue::BiasRelu
    } else {
        Epilogue::Bias
    };
    let y = reshape(try_dense(x, kernel, bias, epilogue)?)?;
    if folded {
        // SAFETY: `A` is `ReLU` (equal `TypeId`s), whose `Module` impl on this tensor type has
        // that same tensor type as its `Output`: the cast renames a type to itself.
        Ok(unsafe { same_type(y) })
    } else {
        activation.try_forward(y)
    }
}

/// Whether the dtype is `f32` and the device [`Cpu`].
pub(crate) fn is_cpu_f32<E: 'static, D: 'static>() -> bool {
    TypeId::of::<(E, D)>() == TypeId::of::<(f32, Cpu)>()
}

/// Moves `a` into the type `B`.
///
/// # Safety
/// `A` and `B` must be the same type: in this module, `B` is `A` with the dtype and device
/// parameters replaced by `f32` and [`Cpu`] (or back) after [`is_cpu_f32`] returned `true`, which
/// is what `Any::downcast` does, without a trait object.
pub(crate) unsafe fn same_type<A, B>(a: A) -> B {
    assert_eq!(std::mem::size_of::<A>(), std::mem::size_of::<B>());
    let a = std::mem::ManuallyDrop::new(a);
    // SAFETY: `A` and `B` are the same type (the caller's contract), and `a` is not dropped.
    unsafe { std::mem::transmute_copy(&*a) }
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
        Epilogue::BiasRelu => super::relu_keeping_nan(y),
    }
}
