//! The device's element-wise activations, as a kernel trait (dfdx's pattern):
//! [`ActivationKernel`], the [`Activation`] it computes, and its generic entry point
//! [`try_activation`].

use dfdx::shapes::{Dtype, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

/// An element-wise activation with its parameters, as Keras (JAX) defines it.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Activation {
    /// Keras's `ELU(alpha)`: `x` where `x > 0`, else `alpha · expm1(x)`; derivative 1 where
    /// `x > 0`, else `alpha · exp(x)`.
    Elu {
        /// The scale of the negative part.
        alpha: f64,
    },
    /// Keras's `LeakyReLU(negative_slope)`: `x` where `x >= 0`, else `negative_slope · x`;
    /// derivative 1 where `x >= 0`, else `negative_slope`.
    LeakyRelu {
        /// The slope of the negative part.
        negative_slope: f64,
    },
    /// Keras's exact `"gelu"`: `x · Φ(x)` with `Φ(x) = (1 + erf(x / √2)) / 2`; derivative
    /// `Φ(x) + x · φ(x)`, `φ` the standard normal density.
    Gelu,
    /// Keras's `"swish"` (`"silu"`): `x · σ(x)`, `σ(x) = 1 / (1 + exp(-x))`; derivative
    /// `σ(x) + x · σ(x) · (1 - σ(x))`.
    Swish,
    /// Keras's `"softplus"` (`jnp.logaddexp(x, 0)`): `max(x, 0) + log1p(exp(-|x|))`; derivative
    /// `σ(x)`.
    Softplus,
}

/// Every [`Activation`], with parameters other than 1 (for tests).
#[cfg(test)]
pub(crate) const EVERY_FORM: [Activation; 5] = [
    Activation::Elu { alpha: 0.7 },
    Activation::LeakyRelu {
        negative_slope: 0.2,
    },
    Activation::Gelu,
    Activation::Swish,
    Activation::Softplus,
];

/// A device's element-wise [`Activation`]s in dtype `E` on a tape: `y = f(x)` value by value,
/// and a backward that adds `f'(x) · g` to the input's gradient.
///
/// Implemented for `Cpu` in `f32` and `f64` and for `Cuda` (`cuda` feature) in `f32` by one op
/// each, and for `Cuda` in `f64` by chains of dfdx's ops
/// ([`activation_with_ops`](super::activation_with_ops)).
/// [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::activation::{Activation, ActivationKernel};
///
/// let dev = Cpu::default();
/// let x = dev.tensor([-2.0f32, 0.0, 3.0]);
/// let leaky = Activation::LeakyRelu { negative_slope: 0.25 };
/// let y = Cpu::try_activation(x.leaky_trace(), leaky)?;
/// assert_eq!(y.retaped::<NoneTape>().array(), [-0.5, 0.0, 3.0]);
/// let grads = y.sum().backward();
/// assert_eq!(grads.get(&x).array(), [0.25, 1.0, 1.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait ActivationKernel<E: Dtype>: Device<E> {
    /// `f(x)` for the activation `f`; the result carries `x`'s tape with the op's backward
    /// registered on it.
    fn try_activation<S: Shape, T: Tape<E, Self>>(
        x: Tensor<S, E, Self, T>,
        f: Activation,
    ) -> Result<Tensor<S, E, Self, T>, Self::Err>;
}

/// An element-wise activation on any device and dtype with an [`ActivationKernel`] (see
/// there).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::activation::{try_activation, Activation};
///
/// let dev = Cpu::default();
/// let y = try_activation(dev.tensor([0.0f64, 1.0]), Activation::Elu { alpha: 2.0 })?;
/// assert_eq!(y.array(), [0.0, 1.0]);
/// # Ok::<(), CpuError>(())
/// ```
#[inline]
pub fn try_activation<S, E, D, T>(
    x: Tensor<S, E, D, T>,
    f: Activation,
) -> Result<Tensor<S, E, D, T>, D::Err>
where
    S: Shape,
    E: Dtype,
    D: ActivationKernel<E>,
    T: Tape<E, D>,
{
    D::try_activation(x, f)
}
