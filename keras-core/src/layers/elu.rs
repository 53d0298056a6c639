//! Keras's `ELU` layer.

use dfdx::nn::tensor_collection::{ModuleVisitor, ScalarOptions, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Dtype, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

use crate::kernels::activation::{try_activation, Activation, ActivationKernel};
use crate::{Error, Result};

/// Keras's `ELU`: `x` for `x > 0`, `alpha * expm1(x)` otherwise (gradient `alpha` at `x = 0`,
/// as Keras/JAX), one op per device ([`ActivationKernel`]).
///
/// `alpha` is a hyperparameter, not a tensor: building, `to_device` and loading rebuild it with
/// [`Default`] (Keras's `alpha = 1.0`); set another value on the built model.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Elu;
///
/// let dev = Cpu::default();
/// let y = Elu::default().forward(dev.tensor([-1.0f64, 2.0]));
/// assert!((y.array()[0] - ((-1.0f64).exp() - 1.0)).abs() < 1e-12);
/// assert_eq!(y.array()[1], 2.0);
/// assert_eq!(Elu::new(0.5)?.alpha, 0.5);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Elu {
    /// Scale of the negative part. Defaults to `1.0`.
    pub alpha: f64,
}

impl Default for Elu {
    fn default() -> Self {
        Self { alpha: 1.0 }
    }
}

impl Elu {
    /// An ELU with the given `alpha` (any finite float).
    pub fn new(alpha: f64) -> Result<Self> {
        if !alpha.is_finite() {
            return Err(Error::invalid(
                "alpha",
                format!("must be finite, got {alpha}"),
            ));
        }
        Ok(Self { alpha })
    }
}

impl NonMutableModule for Elu {}

impl<E: Dtype, D: Device<E>> BuildOnDevice<D, E> for Elu {
    type Built = Elu;
}

impl<E: Dtype, D: Device<E>> TensorCollection<E, D> for Elu {
    type To<E2: Dtype, D2: Device<E2>> = Elu;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            <Self as TensorCollection<E, D>>::scalar(
                "alpha",
                |s| &s.alpha,
                |s| &mut s.alpha,
                ScalarOptions::from_default(1.0),
            ),
            |alpha| Elu { alpha },
        )
    }
}

/// Applied after `Dense`'s product.
impl<X> crate::kernels::DenseActivation<X> for Elu where Elu: Module<X> {}

impl<S: Shape, E: Dtype, D: ActivationKernel<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for Elu {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    /// One op per device ([`ActivationKernel`]): `x` where `x > 0`, else `alpha · expm1(x)`.
    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        try_activation(x, Activation::Elu { alpha: self.alpha })
    }
}

#[cfg(test)]
mod tests {
    use super::Elu;
    use dfdx::prelude::*;

    #[test]
    fn elu_matches_keras_formula() {
        let dev = Cpu::default();
        let y = Elu::new(0.5)
            .unwrap()
            .forward(dev.tensor([-2.0f64, 0.0, 3.0]));
        let want = [0.5 * ((-2.0f64).exp() - 1.0), 0.0, 3.0];
        for (a, b) in y.array().iter().zip(want) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn elu_gradient_at_zero_is_alpha() {
        let dev = Cpu::default();
        let x = dev.tensor([0.0f64, 1.0]);
        let g = Elu::new(0.5)
            .unwrap()
            .forward(x.leaky_trace())
            .sum()
            .backward();
        assert_eq!(g.get(&x).array(), [0.5, 1.0]);
    }

    #[test]
    fn elu_rejects_non_finite_alpha() {
        assert!(Elu::new(f64::INFINITY).is_err());
    }
}
