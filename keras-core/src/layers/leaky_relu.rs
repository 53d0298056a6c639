//! Keras's `LeakyReLU` layer.

use dfdx::nn::tensor_collection::{ModuleVisitor, ScalarOptions, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Dtype, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

use crate::kernels::activation::{try_activation, Activation, ActivationKernel};
use crate::{Error, Result};

/// Keras's `LeakyReLU`: `x` for `x >= 0`, `negative_slope * x` below (gradient 1 at `x = 0`, as
/// Keras), one op per device ([`ActivationKernel`]).
///
/// The layer default is Keras's `negative_slope = 0.3` (the *function*
/// `keras.activations.leaky_relu` defaults to 0.2; the layer is what this type mirrors). The
/// slope is a hyperparameter, not a tensor: building, `to_device` and loading rebuild it with
/// [`Default`], so set a non-default slope on the built model (`model.act = LeakyReLU::new(0.1)?`).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::LeakyReLU;
///
/// let dev = Cpu::default();
/// let y = LeakyReLU::default().forward(dev.tensor([-3.0f64, 2.0]));
/// assert!((y.array()[0] + 0.9).abs() < 1e-12);
/// let y = LeakyReLU::new(0.5)?.forward(dev.tensor([-10.0f64, 5.0]));
/// assert_eq!(y.array(), [-5.0, 5.0]);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LeakyReLU {
    /// Slope for negative inputs. Defaults to `0.3`.
    pub negative_slope: f64,
}

impl Default for LeakyReLU {
    fn default() -> Self {
        Self {
            negative_slope: 0.3,
        }
    }
}

impl LeakyReLU {
    /// A leaky ReLU with the given slope; Keras rejects negative slopes, and so does this.
    pub fn new(negative_slope: f64) -> Result<Self> {
        if !(negative_slope.is_finite() && negative_slope >= 0.0) {
            return Err(Error::invalid(
                "negative_slope",
                format!("must be a finite float >= 0, got {negative_slope}"),
            ));
        }
        Ok(Self { negative_slope })
    }
}

impl NonMutableModule for LeakyReLU {}

impl<E: Dtype, D: Device<E>> BuildOnDevice<D, E> for LeakyReLU {
    type Built = LeakyReLU;
}

impl<E: Dtype, D: Device<E>> TensorCollection<E, D> for LeakyReLU {
    type To<E2: Dtype, D2: Device<E2>> = LeakyReLU;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            <Self as TensorCollection<E, D>>::scalar(
                "negative_slope",
                |s| &s.negative_slope,
                |s| &mut s.negative_slope,
                ScalarOptions::from_default(0.3),
            ),
            |negative_slope| LeakyReLU { negative_slope },
        )
    }
}

/// Applied after `Dense`'s product.
impl<X> crate::kernels::DenseActivation<X> for LeakyReLU where LeakyReLU: Module<X> {}

impl<S: Shape, E: Dtype, D: ActivationKernel<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>>
    for LeakyReLU
{
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    /// One op per device ([`ActivationKernel`]): `x` where `x >= 0`, else
    /// `negative_slope · x`.
    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        let negative_slope = self.negative_slope;
        try_activation(x, Activation::LeakyRelu { negative_slope })
    }
}

#[cfg(test)]
mod tests {
    use super::LeakyReLU;
    use dfdx::prelude::*;

    #[test]
    fn leaky_relu_defaults_to_keras_layer_slope() {
        let dev = Cpu::default();
        let y = LeakyReLU::default().forward(dev.tensor([-3.0f64, -1.0, 0.0, 2.0]));
        let want = [-0.9, -0.3, 0.0, 2.0];
        for (a, b) in y.array().iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn leaky_relu_rejects_negative_slopes() {
        assert!(LeakyReLU::new(-0.1).is_err());
        assert!(LeakyReLU::new(f64::NAN).is_err());
        assert_eq!(
            LeakyReLU::new(0.1).map(|l| l.negative_slope).ok(),
            Some(0.1)
        );
    }

    #[test]
    fn leaky_relu_gradient_at_zero_is_one_as_keras() {
        let dev = Cpu::default();
        let x = dev.tensor([0.0f64, -1.0]);
        let g = LeakyReLU::default()
            .forward(x.leaky_trace())
            .sum()
            .backward();
        let g = g.get(&x).array();
        assert_eq!(g[0], 1.0);
        assert!((g[1] - 0.3).abs() < 1e-12);
    }
}
