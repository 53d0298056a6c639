//! Non-finite values: whether `f32` values are all finite (one pass that vectorizes), and a
//! ReLU that keeps a NaN NaN on every device.

use dfdx::shapes::{Dtype, HasShape, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{ChooseFrom, Device, TryNe};

/// The exponent bits of an `f32`: all set for NaN and the infinities only.
const EXPONENT: u32 = 0x7f80_0000;

/// `true` when no value is NaN or infinite.
///
/// An integer OR of the exponent test over the values: exact and associative, so the compiler
/// vectorizes it (a float sum such as `acc + v * 0.0` would stay one scalar add after another,
/// a tenth of the speed, which a data check on every batch would feel).
///
/// # Examples
/// ```
/// use keras_core::kernels::all_finite;
///
/// assert!(all_finite(&[0.0, -1.5, f32::MAX, f32::MIN_POSITIVE / 2.0]));
/// assert!(!all_finite(&[1.0, f32::NAN]));
/// assert!(!all_finite(&[f32::NEG_INFINITY]));
/// ```
pub fn all_finite(values: &[f32]) -> bool {
    values.iter().fold(0u32, |acc, v| {
        acc | u32::from(v.to_bits() & EXPONENT == EXPONENT)
    }) == 0
}

/// Keras's `relu` on one value, NaN kept as NaN (as `jnp.maximum(x, 0)`): `f32::max` would
/// turn a NaN into 0 and hide it from the loss while the backward still reads it. The fused
/// Dense kernels' ReLU store.
#[inline(always)]
pub(crate) fn relu_f32(v: f32) -> f32 {
    if v < 0.0 {
        0.0
    } else {
        v
    }
}

/// Keras's `relu` on any device: `max(x, 0)`, NaN where `x` is NaN. dfdx's relu turns a NaN into
/// 0 (while the layer before still multiplies its gradient by the NaN); here the NaN positions
/// take `x` itself. Gradient 0 at 0, as Keras.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::relu_keeping_nan;
///
/// let dev = Cpu::default();
/// let y = relu_keeping_nan(dev.tensor([-1.0f32, 2.0, f32::NAN])).unwrap().array();
/// assert_eq!(y[..2], [0.0, 2.0]);
/// assert!(y[2].is_nan());
/// ```
pub fn relu_keeping_nan<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>>(
    x: Tensor<S, E, D, T>,
) -> Result<Tensor<S, E, D, T>, D::Err> {
    if x.shape().num_elements() == 0 {
        // dfdx's comparison and choice kernels index their first element even when empty.
        return x.try_relu();
    }
    let is_nan = x.try_ne(&x)?;
    let relu = x.retaped::<T>().try_relu()?;
    is_nan.try_choose(x, relu)
}

#[cfg(test)]
mod tests {
    use super::all_finite;

    #[test]
    fn every_non_finite_value_at_every_position_is_found() {
        let specials = [f32::NAN, -f32::NAN, f32::INFINITY, f32::NEG_INFINITY];
        for len in [1, 7, 8, 33, 100] {
            let clean: Vec<f32> = (0..len).map(|i| i as f32 * 1e30 - 3e31).collect();
            assert!(all_finite(&clean));
            for at in 0..len {
                for s in specials {
                    let mut bad = clean.clone();
                    bad[at] = s;
                    assert!(!all_finite(&bad), "{s} at {at} of {len}");
                }
            }
        }
        assert!(all_finite(&[]));
    }
}
