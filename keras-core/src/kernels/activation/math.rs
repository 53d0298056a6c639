//! The activations' values and derivatives on the host, one value at a time, in `f32` and
//! `f64`: the CPU op's arithmetic, which `activation.cu` repeats.

use num_traits::{Float, FloatConst};

use super::Activation;

/// A float the CPU op computes in: dfdx's float dtypes with `erf` (from `libm`, as dfdx's own
/// `accurate_gelu`).
pub(crate) trait ActivationFloat: Float + FloatConst + Send + Sync {
    /// The error function.
    fn erf(self) -> Self;
    /// `v` in this type (an activation's parameter, a constant).
    fn of(v: f64) -> Self;
}

impl ActivationFloat for f32 {
    fn erf(self) -> Self {
        libm::erff(self)
    }
    fn of(v: f64) -> Self {
        v as f32
    }
}

impl ActivationFloat for f64 {
    fn erf(self) -> Self {
        libm::erf(self)
    }
    fn of(v: f64) -> Self {
        v
    }
}

/// One activation with its parameters in the dtype it runs in.
#[derive(Clone, Copy)]
pub(crate) enum Form<F> {
    /// See [`Activation::Elu`].
    Elu(F),
    /// See [`Activation::LeakyRelu`].
    LeakyRelu(F),
    /// See [`Activation::Gelu`].
    Gelu,
    /// See [`Activation::Swish`].
    Swish,
    /// See [`Activation::Softplus`].
    Softplus,
}

impl<F: ActivationFloat> Form<F> {
    /// `f` with its parameters in `F`.
    pub(crate) fn of(f: Activation) -> Self {
        match f {
            Activation::Elu { alpha } => Form::Elu(F::of(alpha)),
            Activation::LeakyRelu { negative_slope } => Form::LeakyRelu(F::of(negative_slope)),
            Activation::Gelu => Form::Gelu,
            Activation::Swish => Form::Swish,
            Activation::Softplus => Form::Softplus,
        }
    }

    /// The activation at `x`.
    #[inline]
    pub(crate) fn value(self, x: F) -> F {
        let one = F::one();
        match self {
            Form::Elu(alpha) => {
                if x > F::zero() {
                    x
                } else {
                    alpha * x.exp_m1()
                }
            }
            Form::LeakyRelu(slope) => {
                if x >= F::zero() {
                    x
                } else {
                    slope * x
                }
            }
            // dfdx's `accurate_gelu`'s value, operation for operation.
            Form::Gelu => F::of(0.5) * x * (one + (x * F::FRAC_1_SQRT_2()).erf()),
            Form::Swish => x * sigmoid(x),
            Form::Softplus => x.max(F::zero()) + (-x.abs()).exp().ln_1p(),
        }
    }

    /// The activation's derivative at `x`.
    #[inline]
    pub(crate) fn derivative(self, x: F) -> F {
        let one = F::one();
        match self {
            Form::Elu(alpha) => {
                if x > F::zero() {
                    one
                } else {
                    alpha * x.exp()
                }
            }
            Form::LeakyRelu(slope) => {
                if x >= F::zero() {
                    one
                } else {
                    slope
                }
            }
            Form::Gelu => {
                let cdf = F::of(0.5) * (one + (x * F::FRAC_1_SQRT_2()).erf());
                let pdf = (F::of(-0.5) * x * x).exp() * F::of(FRAC_1_SQRT_2PI);
                cdf + x * pdf
            }
            Form::Swish => {
                let s = sigmoid(x);
                s + x * s * (one - s)
            }
            Form::Softplus => sigmoid(x),
        }
    }
}

/// `1 / sqrt(2π)`, the standard normal density's peak.
pub(crate) const FRAC_1_SQRT_2PI: f64 = 0.398_942_280_401_432_7;

/// `1 / (1 + exp(-x))`, as dfdx's sigmoid.
#[inline]
fn sigmoid<F: ActivationFloat>(x: F) -> F {
    F::one() / (F::one() + (-x).exp())
}

#[cfg(test)]
mod tests {
    use super::{Form, FRAC_1_SQRT_2PI};
    use crate::kernels::activation::{Activation, EVERY_FORM};

    #[test]
    fn the_constant_is_one_over_the_square_root_of_two_pi() {
        let want = 1.0 / (2.0 * std::f64::consts::PI).sqrt();
        assert!((FRAC_1_SQRT_2PI - want).abs() < 1e-16);
    }

    #[test]
    fn each_derivative_is_the_slope_of_its_value_in_f64() {
        for f in EVERY_FORM {
            let form = Form::<f64>::of(f);
            // Away from the kinks of ELU and LeakyReLU at 0.
            for x in [-6.0, -2.5, -0.75, -0.1, 0.1, 0.3, 1.0, 2.0, 7.5] {
                let h = 1e-6;
                let slope = (form.value(x + h) - form.value(x - h)) / (2.0 * h);
                let d = form.derivative(x);
                assert!(
                    (slope - d).abs() < 1e-7 * (1.0 + d.abs()),
                    "{f:?} at {x}: {slope} vs {d}"
                );
            }
        }
    }

    #[test]
    fn the_values_are_kerass_formulas_and_nan_stays_nan() {
        let elu = Form::<f64>::of(EVERY_FORM[0]);
        assert_eq!(elu.value(2.0), 2.0);
        assert_eq!(elu.value(-1e-10), 0.7 * (-1e-10f64).exp_m1());
        assert_eq!(elu.derivative(0.0), 0.7);
        let leaky = Form::<f64>::of(EVERY_FORM[1]);
        assert_eq!(
            (leaky.value(-3.0), leaky.derivative(0.0)),
            (0.2 * -3.0, 1.0)
        );
        let gelu = Form::<f64>::of(Activation::Gelu);
        assert!((gelu.value(1.0) - 0.841_344_746_068_542_9).abs() < 1e-15);
        let softplus = Form::<f64>::of(Activation::Softplus);
        assert_eq!(softplus.value(0.0), std::f64::consts::LN_2);
        assert_eq!(softplus.value(800.0), 800.0);
        assert_eq!(softplus.derivative(0.0), 0.5);
        let swish = Form::<f32>::of(Activation::Swish);
        assert_eq!(swish.value(0.0), 0.0);
        for f in EVERY_FORM {
            assert!(Form::<f32>::of(f).value(f32::NAN).is_nan(), "{f:?}");
        }
    }
}
