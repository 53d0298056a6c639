//! The inputs `Dense` takes, `(batch, I)` or `(batch, steps, I)`, checked before any forward:
//! [`DenseInput`], [`DenseForward`] and [`DenseLayer`], the forward `Dense`'s `Module` runs.

use dfdx::nn::Module;
use dfdx::shapes::{Const, Dim, Dtype, HasShape, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{BroadcastTo, Device, TryAdd, TryMatMul};

use super::Dense;
use crate::kernels::{try_dense_activated, DenseActivation, DenseKernel};

/// A shape [`Dense<I, ..>`](Dense) takes: `(batch, I)` or `(batch, steps, I)`, with any batch
/// and step dimension.
///
/// `Dense`'s forward ([`DenseLayer`]) is bound by this one tape-free check first, so a width or
/// rank mismatch is one error naming the layer's width and the shape it was given, the same for
/// the inference and the training forward (which then run [`DenseForward`]).
///
/// # Examples
/// ```
/// use keras_core::dfdx::shapes::{Const, Rank2};
/// use keras_core::layers::DenseInput;
///
/// fn takes<S: DenseInput<4>>() {}
/// takes::<(usize, Const<4>)>();
/// takes::<Rank2<8, 4>>();
/// takes::<(usize, Const<7>, Const<4>)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`Dense<{I}, ..>` takes inputs of shape `(batch, {I})` or `(batch, steps, {I})`, but was given `{Self}`",
    label = "this layer's input must end in {I} features"
)]
pub trait DenseInput<const I: usize>: Shape {
    /// The shape again. `Dense`'s forward is bound through this projection (`X::Form:
    /// DenseForward`) rather than on `X` itself: for a rejected `X` the projection cannot be
    /// formed, so rustc reports only `X: DenseInput<I>`, once, and not a second, tape-specific
    /// error per forward.
    type Form: Shape;

    /// `x` as its form: the same tensor (the generic impl cannot see that `Form` is `Self`).
    fn into_form<E: Dtype, D: Device<E>, T: Tape<E, D>>(
        x: Tensor<Self, E, D, T>,
    ) -> Tensor<Self::Form, E, D, T>;
}

// Not listed under a rejected input: the message says which shapes are taken.
#[diagnostic::do_not_recommend]
impl<B: Dim, const I: usize> DenseInput<I> for (B, Const<I>) {
    type Form = Self;

    fn into_form<E: Dtype, D: Device<E>, T: Tape<E, D>>(
        x: Tensor<Self, E, D, T>,
    ) -> Tensor<Self, E, D, T> {
        x
    }
}

// Not listed under a rejected input: the message says which shapes are taken.
#[diagnostic::do_not_recommend]
impl<B: Dim, S: Dim, const I: usize> DenseInput<I> for (B, S, Const<I>) {
    type Form = Self;

    fn into_form<E: Dtype, D: Device<E>, T: Tape<E, D>>(
        x: Tensor<Self, E, D, T>,
    ) -> Tensor<Self, E, D, T> {
        x
    }
}

/// `Dense`'s forward on one input form `Self` with tape `T`: the fused product on
/// `(batch, I)`, a matmul and broadcast bias on `(batch, steps, I)`.
pub trait DenseForward<L, T>: Shape {
    /// The input tensor of this form and tape.
    type Input;
    /// The activation's output.
    type Output;
    /// The device's error.
    type Error: core::fmt::Debug;

    /// `activation(x · kernel + bias)`.
    fn try_dense_forward(layer: &L, x: Self::Input) -> Result<Self::Output, Self::Error>;
}

impl<B: Dim, const I: usize, const O: usize, A, E: Dtype, D: DenseKernel<E>, T: Tape<E, D>>
    DenseForward<Dense<I, O, A, E, D>, T> for (B, Const<I>)
where
    A: DenseActivation<Tensor<(B, Const<O>), E, D, T>, Error = D::Err>,
{
    type Input = Tensor<Self, E, D, T>;
    type Output = A::Output;
    type Error = D::Err;

    /// One op ([`try_dense`](crate::kernels::try_dense), fused on `Cpu` in `f32`): a
    /// [`ReLU`](super::ReLU) activation is folded into it, any other activation runs after it.
    fn try_dense_forward(
        layer: &Dense<I, O, A, E, D>,
        x: Self::Input,
    ) -> Result<A::Output, D::Err> {
        try_dense_activated(x, &layer.kernel, &layer.bias, &layer.activation, Ok)
    }
}

impl<B: Dim, S: Dim, const I: usize, const O: usize, A, E: Dtype, D: Device<E>, T: Tape<E, D>>
    DenseForward<Dense<I, O, A, E, D>, T> for (B, S, Const<I>)
where
    A: Module<Tensor<(B, S, Const<O>), E, D, T>, Error = D::Err>,
{
    type Input = Tensor<Self, E, D, T>;
    type Output = A::Output;
    type Error = D::Err;

    fn try_dense_forward(
        layer: &Dense<I, O, A, E, D>,
        x: Self::Input,
    ) -> Result<A::Output, D::Err> {
        let y = x.try_matmul(layer.kernel.retaped::<T>())?;
        let shape = *y.shape();
        let y = y.try_add(layer.bias.retaped::<T>().try_broadcast_like(&shape)?)?;
        layer.activation.try_forward(y)
    }
}

/// `Dense`'s forward on input `X`, which its `Module` (and so `ModuleMut`) runs; a
/// `#[derive(Sequential)]` model calls it for each field whose type is named `Dense`.
///
/// The bound of a model's field is this trait (not `Module`), so a field whose input `Dense`
/// rejects is named in the error ("unsatisfied trait bound introduced here"), below the message
/// of [`DenseInput`].
pub trait DenseLayer<X> {
    /// The activation's output.
    type Output;
    /// The device's error.
    type Error: core::fmt::Debug;

    /// `activation(x · kernel + bias)`.
    fn try_dense(&self, x: X) -> Result<Self::Output, Self::Error>;
}

impl<X, const I: usize, const O: usize, A, E: Dtype, D: Device<E>, T: Tape<E, D>>
    DenseLayer<Tensor<X, E, D, T>> for Dense<I, O, A, E, D>
where
    X: DenseInput<I>,
    X::Form: DenseForward<Self, T, Input = Tensor<X::Form, E, D, T>, Error = D::Err>,
{
    type Output = <X::Form as DenseForward<Self, T>>::Output;
    type Error = D::Err;

    /// [`DenseForward`] on the input's form: on `(batch, I)` one op
    /// ([`try_dense`](crate::kernels::try_dense), fused on `Cpu` in `f32`, a
    /// [`ReLU`](super::ReLU) activation folded into it).
    fn try_dense(&self, x: Tensor<X, E, D, T>) -> Result<Self::Output, D::Err> {
        <X::Form as DenseForward<Self, T>>::try_dense_forward(self, X::into_form(x))
    }
}
