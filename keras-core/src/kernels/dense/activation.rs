//! How a layer's activation meets `Dense`'s product: folded into the product's epilogue
//! (`ReLU`), or run after it (every other activation).

use dfdx::nn::Module;
use dfdx::shapes::{Const, Dim, Dtype, Rank1, Shape};
use dfdx::tensor::{Tape, Tensor};

use super::{try_dense, DenseKernel, Epilogue};

/// An activation that can follow `Dense`'s (and `Conv2D`'s) product `x · kernel + bias` on
/// input `X`: the activation parameter `A` of [`Dense`](crate::layers::Dense) and
/// [`Conv2D`](crate::layers::Conv2D).
///
/// By default the product runs with [`Epilogue::Bias`] and the activation's own forward after
/// it; an activation that the product's epilogue computes ([`ReLU`](crate::layers::ReLU):
/// [`Epilogue::BiasRelu`]) says so with [`EPILOGUE`](DenseActivation::EPILOGUE) and returns the
/// product as its output in [`try_after_dense`](DenseActivation::try_after_dense), so it costs no
/// separate pass. Every activation of [`layers`](crate::layers) implements it; for one of your
/// own, an empty impl is enough.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::DenseActivation;
/// use keras_core::layers::Dense;
///
/// /// `2x`, a custom activation.
/// #[derive(Debug, Default, Clone, Copy)]
/// struct Double;
///
/// impl<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for Double {
///     type Output = Tensor<S, E, D, T>;
///     type Error = D::Err;
///     fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
///         x.try_mul(E::from_f64(2.0).unwrap())
///     }
/// }
///
/// // Applied after the product.
/// impl<X> DenseActivation<X> for Double where Double: Module<X> {}
///
/// let dev = Cpu::default();
/// let mut layer = dev.build_module::<Dense<1, 1, Double>, f32>();
/// layer.set_weights(&[3.0], &[1.0])?;
/// let y = layer.forward(dev.tensor_from_vec(vec![1.0f32], (1usize, Const::<1>)));
/// assert_eq!(y.as_vec(), [8.0]);
/// # Ok::<(), keras_core::Error>(())
/// ```
pub trait DenseActivation<X>: Module<X> {
    /// The epilogue the product runs with: [`Epilogue::Bias`] unless the epilogue computes the
    /// activation itself.
    const EPILOGUE: Epilogue = Epilogue::Bias;

    /// Whether the product computed with [`EPILOGUE`](DenseActivation::EPILOGUE) is already
    /// the activation's output ([`try_after_dense`](DenseActivation::try_after_dense) returns
    /// it unchanged): `ReLU` and `Linear`. A kernel may then fuse what follows the layer into
    /// the product (`Conv2D` → `MaxPooling2D` in inference). Defaults to `false`.
    const EPILOGUE_IS_OUTPUT: bool = false;

    /// The activation's output from the product computed with
    /// [`EPILOGUE`](DenseActivation::EPILOGUE): by default the activation's forward; the product
    /// as it is for an activation the epilogue computed.
    fn try_after_dense(&self, y: X) -> Result<Self::Output, Self::Error> {
        self.try_forward(y)
    }
}

/// `activation(reshape(x · kernel + bias))`, the forward of `Dense` and `Conv2D`: one
/// [`try_dense`] with the activation's [`EPILOGUE`](DenseActivation::EPILOGUE), then the
/// activation's [`try_after_dense`](DenseActivation::try_after_dense). `reshape` gives the
/// product the layer's output shape (`Ok` for `Dense`; `Conv2D`'s `(batch, OH, OW, OUT)`).
#[allow(clippy::type_complexity)]
#[inline]
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
    D: DenseKernel<E>,
    T: Tape<E, D>,
    S: Shape,
    A: DenseActivation<Tensor<S, E, D, T>, Error = D::Err>,
{
    let y = reshape(try_dense(x, kernel, bias, A::EPILOGUE)?)?;
    activation.try_after_dense(y)
}
