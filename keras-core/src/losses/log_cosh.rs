//! `keras.losses.LogCosh`.

use super::elementwise::elementwise_loss;
use super::numeric::softplus;

elementwise_loss!(
    /// Logarithm of the hyperbolic cosine of the error, averaged over the last axis.
    ///
    /// Computed as Keras does, stable for large errors: `x + softplus(-2x) - ln 2` with
    /// `x = y_pred - y_true`. Its derivative is `tanh(x)`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, LogCosh, LossScratch};
    /// let loss = LogCosh::default();
    /// let mut scratch = LossScratch::default();
    /// let out = compute_loss(&loss, &[0.0, 0.0], &[1.0, 0.0], &[1, 2], None, false, &mut scratch).unwrap();
    /// assert!((out.value - 1.0f32.cosh().ln() / 2.0).abs() < 1e-6);
    /// ```
    LogCosh,
    "log_cosh",
    Mean,
    device crate::losses::DeviceLoss::LogCosh,
    |t, p| {
        let x = p - t;
        (x + softplus(x * -2.0) - std::f32::consts::LN_2, x.tanh())
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn a_large_error_costs_its_size_minus_ln_2() {
        let mut v = [0.0];
        LogCosh::default()
            .per_sample(&[0.0], &[100.0], 1, &mut v, None)
            .unwrap();
        assert!((v[0] - (100.0 - std::f32::consts::LN_2)).abs() < 1e-4);
    }
}
