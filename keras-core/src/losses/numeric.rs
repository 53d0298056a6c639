//! `f32` element math as Keras's JAX backend does it, NaN propagation included.
//!
//! Rust's `f32::max`/`f32::min` drop a NaN operand; `jnp.maximum`/`jnp.minimum` keep it. These
//! helpers keep it, so a NaN input gives a NaN loss as in Keras.

/// `jnp.maximum`: NaN if either operand is NaN.
pub(crate) fn maximum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a >= b {
        a
    } else {
        b
    }
}

/// `jnp.minimum`: NaN if either operand is NaN.
pub(crate) fn minimum(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if a <= b {
        a
    } else {
        b
    }
}

/// `sign(x)` with `sign(0) = 0`, as `jnp.sign` (NaN stays NaN).
pub(crate) fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

/// `jnp.clip(x, lo, hi)`.
pub(crate) fn clip(x: f32, lo: f32, hi: f32) -> f32 {
    minimum(maximum(x, lo), hi)
}

/// The derivative of [`clip`]: 1 strictly inside `(lo, hi)`, else 0.
pub(crate) fn clip_slope(x: f32, lo: f32, hi: f32) -> f32 {
    if x > lo && x < hi {
        1.0
    } else {
        0.0
    }
}

/// `jax.nn.softplus(x) = logaddexp(x, 0) = max(x, 0) + log1p(exp(-|x|))`.
pub(crate) fn softplus(x: f32) -> f32 {
    maximum(x, 0.0) + (-x.abs()).exp().ln_1p()
}

/// `jax.nn.sigmoid(x) = 1 / (1 + exp(-x))`.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// `jax.nn.log_sigmoid(x) = -softplus(-x)`.
pub(crate) fn log_sigmoid(x: f32) -> f32 {
    -softplus(-x)
}

/// `jnp.max` over a row: NaN if any entry is NaN.
pub(crate) fn row_max(row: &[f32]) -> f32 {
    row.iter().copied().fold(f32::NEG_INFINITY, maximum)
}

/// `jax.nn.softmax` of one row into `out`.
pub(crate) fn softmax(row: &[f32], out: &mut [f32]) {
    let max = row_max(row);
    let mut sum = 0.0f32;
    for (o, &x) in out.iter_mut().zip(row) {
        *o = (x - max).exp();
        sum += *o;
    }
    for o in out.iter_mut() {
        *o /= sum;
    }
}

/// `jax.nn.log_softmax` of one row into `out`: `x - max - ln(sum(exp(x - max)))`.
pub(crate) fn log_softmax(row: &[f32], out: &mut [f32]) {
    let max = row_max(row);
    let sum: f32 = row.iter().map(|&x| (x - max).exp()).sum();
    let log_sum = sum.ln();
    for (o, &x) in out.iter_mut().zip(row) {
        *o = (x - max) - log_sum;
    }
}

/// `jax.nn.softmax`'s backward pass: given `g = d f / d softmax(x)` and `s = softmax(x)`,
/// writes `d f / d x = s * (g - sum(g * s))` into `g`.
pub(crate) fn softmax_backward(s: &[f32], g: &mut [f32]) {
    let dot: f32 = s.iter().zip(g.iter()).map(|(a, b)| a * b).sum();
    for (gi, &si) in g.iter_mut().zip(s) {
        *gi = si * (*gi - dot);
    }
}

/// Keras's binary label smoothing: `t * (1 - s) + 0.5 * s`, the constants rounded from `f64`
/// as Python hands them to an `f32` tensor.
pub(crate) fn smooth_binary(t: f32, s: f32) -> f32 {
    if s == 0.0 {
        return t;
    }
    let keep = (1.0 - f64::from(s)) as f32;
    let add = (0.5 * f64::from(s)) as f32;
    t * keep + add
}

/// Keras's categorical label smoothing over `k` classes: `t * (1 - s) + s / k`.
pub(crate) fn smooth_categorical(t: f32, s: f32, k: usize) -> f32 {
    if s == 0.0 {
        return t;
    }
    let keep = (1.0 - f64::from(s)) as f32;
    t * keep + s / k as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::*;

    #[test]
    fn maximum_and_minimum_keep_nan_like_jax() {
        assert!(maximum(f32::NAN, 1.0).is_nan());
        assert!(minimum(1.0, f32::NAN).is_nan());
        assert!(clip(f32::NAN, 0.0, 1.0).is_nan());
        assert_eq!(clip(2.0, 0.0, 1.0), 1.0);
    }

    #[test]
    fn clipping_one_below_one_is_done_in_f32() {
        let p = clip(1.0, 1e-7, 1.0 - 1e-7);
        assert_eq!(1.0 - p, 1.192_092_9e-7);
    }

    #[test]
    fn softplus_is_stable_for_large_inputs() {
        assert_eq!(softplus(100.0), 100.0);
        assert!(softplus(-100.0) < 1e-40);
        assert!((softplus(0.0) - std::f32::consts::LN_2).abs() < 1e-7);
    }

    #[test]
    fn log_softmax_matches_ln_of_softmax() {
        let row = [0.5, -1.0, 2.0];
        let (mut a, mut b) = ([0.0; 3], [0.0; 3]);
        softmax(&row, &mut a);
        log_softmax(&row, &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x.ln() - y).abs() < 1e-6);
        }
    }

    fn nan_prediction_gives_nan<L: LossFn>(loss: L, y_true: &[f32]) {
        let mut s = LossScratch::default();
        let y_pred = [0.5, f32::NAN, 0.25, 0.25];
        let out = compute_loss(&loss, y_true, &y_pred, &[2, 2], None, false, &mut s).unwrap();
        assert!(
            out.value.is_nan(),
            "{} hid a NaN: {}",
            loss.name(),
            out.value
        );
    }

    #[test]
    fn a_nan_prediction_propagates_through_every_loss() {
        let dense = [1.0, 0.0, 0.0, 1.0];
        let sparse = [1.0, 0.0];
        nan_prediction_gives_nan(MeanSquaredError::default(), &dense);
        nan_prediction_gives_nan(MeanAbsoluteError::default(), &dense);
        nan_prediction_gives_nan(MeanAbsolutePercentageError::default(), &dense);
        nan_prediction_gives_nan(MeanSquaredLogarithmicError::default(), &dense);
        nan_prediction_gives_nan(Huber::default(), &dense);
        nan_prediction_gives_nan(LogCosh::default(), &dense);
        nan_prediction_gives_nan(BinaryCrossentropy::default(), &dense);
        nan_prediction_gives_nan(BinaryCrossentropy::default().with_from_logits(true), &dense);
        nan_prediction_gives_nan(BinaryFocalCrossentropy::default(), &dense);
        nan_prediction_gives_nan(CategoricalCrossentropy::default(), &dense);
        nan_prediction_gives_nan(
            CategoricalCrossentropy::default().with_from_logits(true),
            &dense,
        );
        nan_prediction_gives_nan(SparseCategoricalCrossentropy::default(), &sparse);
        nan_prediction_gives_nan(
            SparseCategoricalCrossentropy::default().with_from_logits(true),
            &sparse,
        );
        nan_prediction_gives_nan(CategoricalFocalCrossentropy::default(), &dense);
        nan_prediction_gives_nan(KLDivergence::default(), &dense);
        nan_prediction_gives_nan(Poisson::default(), &dense);
        nan_prediction_gives_nan(Hinge::default(), &dense);
        nan_prediction_gives_nan(SquaredHinge::default(), &dense);
        nan_prediction_gives_nan(CategoricalHinge::default(), &dense);
        nan_prediction_gives_nan(CosineSimilarity::default(), &dense);
        nan_prediction_gives_nan(Dice::default(), &dense);
        nan_prediction_gives_nan(Tversky::default(), &dense);
        nan_prediction_gives_nan(CategoricalGeneralizedCrossEntropy::default(), &sparse);
    }
}
