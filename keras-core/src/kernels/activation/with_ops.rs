//! The activations as chains of dfdx's ops: the kernel of `Cuda` in `f64`, and the fused ops'
//! fallback for views that are not row-major and empty tensors.

use dfdx::shapes::{Dtype, Shape};
use dfdx::tensor::{NoneTape, Tape, Tensor};
use dfdx::tensor_ops::{Device, TryAdd, TryMul, TrySub};

use super::Activation;

/// `f(x)` with dfdx's ops (see [`ActivationKernel`](super::ActivationKernel)). The values agree
/// with the fused ops to rounding: `ELU` computes `exp(x) - 1` for `expm1(x)`, and `LeakyReLU`
/// `x + (1 - slope) · relu(-x)` for `slope · x`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::activation::{activation_with_ops, Activation};
///
/// let dev = Cpu::default();
/// let y = activation_with_ops(dev.tensor([-1.0f64, 2.0]), Activation::LeakyRelu { negative_slope: 0.5 })?;
/// assert_eq!(y.array(), [-0.5, 2.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub fn activation_with_ops<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<S, E, D, T>,
    f: Activation,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    let e = |v: f64| E::from_f64(v).unwrap_or_default();
    match f {
        // `relu(x) + alpha · (exp(x - relu(x)) - 1)`; `x - relu(x)` is `min(x, 0)` with
        // gradient 1 at 0.
        Activation::Elu { alpha } => {
            let positive = x.retaped::<T>().try_relu()?;
            let negative = x
                .retaped::<T>()
                .try_sub(positive)?
                .try_exp()?
                .try_sub(E::ONE)?
                .try_mul(e(alpha))?;
            x.try_relu()?.try_add(negative)
        }
        // `x + (1 - slope) · relu(-x)`.
        Activation::LeakyRelu { negative_slope } => {
            let scale = e(1.0 - negative_slope);
            let negative = x.retaped::<T>().try_negate()?.try_relu()?.try_mul(scale)?;
            x.try_add(negative)
        }
        // dfdx 0.13's `accurate_gelu` has the right value but a wrong derivative (CPU and
        // CUDA): its `x · φ(x)` term misses a factor 1/√2. Adding `(√2 - 1) · (φ(x) -
        // φ(x)|detached)` changes the value by exactly 0 and the gradient by `-(√2 - 1) · x ·
        // φ(x)`, which restores d/dx gelu = Φ(x) + x · φ(x).
        Activation::Gelu => {
            let k = e(std::f64::consts::SQRT_2 - 1.0);
            let live = gaussian_pdf(x.retaped::<T>())?;
            let frozen = gaussian_pdf(x.retaped::<NoneTape>())?;
            let correction = live.try_sub(frozen)?.try_mul(k)?;
            x.try_accurate_gelu()?.try_add(correction)
        }
        Activation::Swish => {
            let s = x.retaped::<T>().try_sigmoid()?;
            x.try_mul(s)
        }
        // `0.5 · (x + |x|)` is `max(x, 0)` with gradient 1/2 at 0, which with `abs'(0) = 0`
        // makes the total gradient at 0 exactly `σ(0) = 1/2`.
        Activation::Softplus => {
            let abs = x.retaped::<T>().try_abs()?;
            let log_term = x
                .retaped::<T>()
                .try_abs()?
                .try_negate()?
                .try_exp()?
                .try_add(E::ONE)?
                .try_ln()?;
            x.try_add(abs)?.try_mul(e(0.5))?.try_add(log_term)
        }
    }
}

/// The standard normal density `exp(-x² / 2) / √(2π)`.
fn gaussian_pdf<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<S, E, D, T>,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    let half = E::from_f64(-0.5).unwrap_or_default();
    let norm = E::from_f64(super::math::FRAC_1_SQRT_2PI).unwrap_or_default();
    x.try_square()?.try_mul(half)?.try_exp()?.try_mul(norm)
}
