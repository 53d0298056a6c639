//! Keras's parameter-free activations as zero-sized layers.
//!
//! Each one is a dfdx module on any tensor shape and tape, usable as a standalone field of a model
//! or as the activation parameter `A` of [`Dense`](super::Dense) (each says, as a
//! [`DenseActivation`], whether it folds into `Dense`'s product: `ReLU` does). They hold no
//! tensors (dfdx's `ZeroSizedModule`), so building, counting, saving and moving a model skips
//! them.

use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::shapes::{Dtype, ReduceShape, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

use crate::kernels::activation::{try_activation, Activation, ActivationKernel};
use crate::kernels::{DenseActivation, Epilogue};

/// Declares a zero-sized activation with its dfdx marker impls.
macro_rules! zero_sized_activation {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
        pub struct $name;

        impl ZeroSizedModule for $name {}
        impl NonMutableModule for $name {}
    };
}

zero_sized_activation!(
    /// Keras's `"linear"` activation: the identity. The default activation of `Dense`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::Linear;
    ///
    /// let dev = Cpu::default();
    /// let y = Linear.forward(dev.tensor([-1.0f32, 2.0]));
    /// assert_eq!(y.array(), [-1.0, 2.0]);
    /// ```
    Linear
);

zero_sized_activation!(
    /// Keras's `ReLU` / `"relu"`: `max(x, 0)`, with gradient 0 at `x = 0` as Keras.
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::ReLU;
    ///
    /// let dev = Cpu::default();
    /// let y = ReLU.forward(dev.tensor([-1.0f32, 2.0]));
    /// assert_eq!(y.array(), [0.0, 2.0]);
    /// ```
    ReLU
);

zero_sized_activation!(
    /// Keras's `"sigmoid"`: `1 / (1 + exp(-x))`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::Sigmoid;
    ///
    /// let dev = Cpu::default();
    /// let y = Sigmoid.forward(dev.tensor([0.0f32]));
    /// assert_eq!(y.array(), [0.5]);
    /// ```
    Sigmoid
);

zero_sized_activation!(
    /// Keras's `"tanh"`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::Tanh;
    ///
    /// let dev = Cpu::default();
    /// let y = Tanh.forward(dev.tensor([0.0f32]));
    /// assert_eq!(y.array(), [0.0]);
    /// ```
    Tanh
);

zero_sized_activation!(
    /// Keras's `Softmax` / `"softmax"` over the last axis (Keras's default `axis=-1`).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::Softmax;
    ///
    /// let dev = Cpu::default();
    /// let y = Softmax.forward(dev.tensor([[1.0f32, 1.0], [0.0, 0.0]]));
    /// assert_eq!(y.array(), [[0.5, 0.5], [0.5, 0.5]]);
    /// ```
    Softmax
);

zero_sized_activation!(
    /// Keras's `"gelu"` with its default `approximate=False`: the exact form
    /// `x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))` (dfdx's `accurate_gelu`'s value) with
    /// the gradient `Phi(x) + x * phi(x)` (dfdx 0.13's is off by a factor in its `x * phi(x)`
    /// term), one op per device ([`ActivationKernel`]).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::Gelu;
    ///
    /// let dev = Cpu::default();
    /// let y = Gelu.forward(dev.tensor([0.0f64, 1.0]));
    /// assert!((y.array()[1] - 0.8413447460685429).abs() < 1e-6);
    /// ```
    Gelu
);

zero_sized_activation!(
    /// Keras's `"softplus"`: `ln(1 + exp(x))`, computed stably as
    /// `max(x, 0) + ln_1p(exp(-|x|))` (JAX's `logaddexp(x, 0)`) with the exact gradient
    /// `sigmoid(x)` everywhere, one op per device ([`ActivationKernel`]).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::Softplus;
    ///
    /// let dev = Cpu::default();
    /// let y = Softplus.forward(dev.tensor([0.0f64, 100.0]));
    /// assert!((y.array()[0] - 2f64.ln()).abs() < 1e-12);
    /// assert_eq!(y.array()[1], 100.0);
    /// ```
    Softplus
);

zero_sized_activation!(
    /// Keras's `"swish"` / `"silu"`: `x * sigmoid(x)`, one op per device
    /// ([`ActivationKernel`]). [`Silu`] is the same type.
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::layers::Swish;
    ///
    /// let dev = Cpu::default();
    /// let y = Swish.forward(dev.tensor([0.0f32, 2.0]));
    /// assert_eq!(y.array()[0], 0.0);
    /// ```
    Swish
);

/// Keras's `"silu"`, the same activation as [`Swish`].
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{Silu, Swish};
///
/// let dev = Cpu::default();
/// let x = dev.tensor([1.0f32, -1.0]);
/// assert_eq!(Silu::default().forward(x.clone()).array(), Swish.forward(x).array());
/// ```
pub type Silu = Swish;

/// Implements `Module` for an activation on any shape and tape.
macro_rules! activation_forward {
    ($name:ident, |$x:ident: $t:ident| $body:expr) => {
        impl<S: Shape, E: Dtype, D: Device<E>, $t: Tape<E, D>> Module<Tensor<S, E, D, $t>>
            for $name
        {
            type Output = Tensor<S, E, D, $t>;
            type Error = D::Err;

            fn try_forward(&self, $x: Tensor<S, E, D, $t>) -> Result<Self::Output, D::Err> {
                $body
            }
        }
    };
}

activation_forward!(Linear, |x: T| Ok(x));
// dfdx's relu turns a NaN into 0; Keras's keeps it NaN.
activation_forward!(ReLU, |x: T| crate::kernels::relu_keeping_nan(x));
activation_forward!(Sigmoid, |x: T| x.try_sigmoid());
activation_forward!(Tanh, |x: T| x.try_tanh());

/// Implements `Module` for an activation that is one op per device ([`ActivationKernel`]).
macro_rules! fused_activation_forward {
    ($name:ident, $f:expr) => {
        impl<S: Shape, E: Dtype, D: ActivationKernel<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>>
            for $name
        {
            type Output = Tensor<S, E, D, T>;
            type Error = D::Err;

            fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
                try_activation(x, $f)
            }
        }
    };
}

fused_activation_forward!(Gelu, Activation::Gelu);
fused_activation_forward!(Swish, Activation::Swish);
fused_activation_forward!(Softplus, Activation::Softplus);

/// Implements [`DenseActivation`] for activations applied after `Dense`'s product (the trait's
/// defaults).
macro_rules! applied_after_dense {
    ($($name:ident),+) => {
        $(impl<X> DenseActivation<X> for $name where $name: Module<X> {})+
    };
}

applied_after_dense!(Sigmoid, Tanh, Gelu, Swish, Softplus, Softmax);

/// The identity: the product with [`Epilogue::Bias`] is its output.
impl<X> DenseActivation<X> for Linear
where
    Linear: Module<X>,
{
    const EPILOGUE_IS_OUTPUT: bool = true;
}

/// Folded into `Dense`'s product: the [`Epilogue::BiasRelu`] epilogue is this activation (NaN
/// kept, gradient 0 at 0), so the product is the output.
impl<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>> DenseActivation<Tensor<S, E, D, T>> for ReLU {
    const EPILOGUE: Epilogue = Epilogue::BiasRelu;
    const EPILOGUE_IS_OUTPUT: bool = true;

    fn try_after_dense(&self, y: Tensor<S, E, D, T>) -> Result<Tensor<S, E, D, T>, D::Err> {
        Ok(y)
    }
}

impl<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for Softmax
where
    S: ReduceShape<S::LastAxis>,
{
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        x.try_softmax::<S::LastAxis>()
    }
}

#[cfg(test)]
mod tests {
    use super::{Gelu, Linear, ReLU, Softmax, Softplus, Swish, Tanh};
    use dfdx::prelude::*;

    #[test]
    fn relu_keeps_a_nan_nan_and_its_gradient_elsewhere_as_before() {
        let dev = Cpu::default();
        let x = dev.tensor([f64::NAN, -1.0, 0.0, 2.0, f64::INFINITY, f64::NEG_INFINITY]);
        let y = ReLU.forward(x.leaky_trace());
        let v = y.array();
        assert!(v[0].is_nan());
        assert_eq!(v[1..], [0.0, 0.0, 2.0, f64::INFINITY, 0.0]);
        let g = y.sum().backward().get(&x).array();
        assert_eq!(g[1..], [0.0, 0.0, 1.0, 1.0, 0.0]);
    }

    fn close(a: &[f64], b: &[f64]) -> bool {
        a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-9)
    }

    #[test]
    fn activations_compute_keras_values() {
        let dev = Cpu::default();
        let x = dev.tensor([-2.0f64, -0.5, 0.0, 1.5]);
        let sig = |v: f64| 1.0 / (1.0 + (-v).exp());
        let xs = [-2.0f64, -0.5, 0.0, 1.5];
        let want: Vec<f64> = xs.iter().map(|&v| v * sig(v)).collect();
        assert!(close(&Swish.forward(x.clone()).array(), &want));
        let want: Vec<f64> = xs.iter().map(|&v| (1.0 + v.exp()).ln()).collect();
        assert!(close(&Softplus.forward(x.clone()).array(), &want));
        let want: Vec<f64> = xs.iter().map(|&v| v.tanh()).collect();
        assert!(close(&Tanh.forward(x.clone()).array(), &want));
        assert_eq!(ReLU.forward(x.clone()).array(), [0.0, 0.0, 0.0, 1.5]);
        assert_eq!(Linear.forward(x).array(), xs);
    }

    #[test]
    fn softmax_normalises_the_last_axis() {
        let dev = Cpu::default();
        let y = Softmax.forward(dev.tensor([[0.0f64, 1.0, 2.0], [3.0, 3.0, 3.0]]));
        let e = [1.0f64, 1f64.exp(), 2f64.exp()];
        let s: f64 = e.iter().sum();
        assert!(close(&y.array()[0], &[e[0] / s, e[1] / s, e[2] / s]));
        assert!(close(&y.array()[1], &[1.0 / 3.0; 3]));
    }

    #[test]
    fn gelu_gradient_is_phi_plus_x_times_density() {
        let dev = Cpu::default();
        let x = dev.tensor([1.0f64, -0.5]);
        let y = Gelu.forward(x.leaky_trace());
        assert!((y.array()[0] - 0.8413447460685429).abs() < 1e-12);
        let g = y.sum().backward().get(&x).array();
        // Phi(1) + phi(1), Phi(-0.5) - 0.5 * phi(-0.5)
        assert!((g[0] - (0.8413447460685429 + 0.24197072451914337)).abs() < 1e-9);
        assert!((g[1] - (0.3085375387259869 - 0.5 * 0.3520653267642995)).abs() < 1e-9);
    }

    #[test]
    fn softplus_gradient_at_zero_is_one_half() {
        let dev = Cpu::default();
        let x = dev.tensor([0.0f64]);
        let g = Softplus.forward(x.leaky_trace()).sum().backward();
        assert!((g.get(&x).array()[0] - 0.5).abs() < 1e-12);
    }
}
