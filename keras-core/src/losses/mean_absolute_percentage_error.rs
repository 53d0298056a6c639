//! `keras.losses.MeanAbsolutePercentageError`.

use super::elementwise::elementwise_loss;
use super::numeric::maximum;
use super::numeric::sign;
use super::EPSILON;

elementwise_loss!(
    /// Mean absolute percentage error over the last axis:
    /// `100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, LossScratch, MeanAbsolutePercentageError};
    /// let mape = MeanAbsolutePercentageError::default();
    /// let mut scratch = LossScratch::default();
    /// let out = compute_loss(&mape, &[2.0, 4.0], &[1.0, 5.0], &[1, 2], None, false, &mut scratch).unwrap();
    /// assert!((out.value - 37.5).abs() < 1e-5);
    /// ```
    MeanAbsolutePercentageError,
    "mean_absolute_percentage_error",
    Mean,
    device crate::losses::DeviceLoss::MeanAbsolutePercentageError,
    |t, p| {
        let scale = maximum(t.abs(), EPSILON);
        let q = (t - p) / scale;
        // Keras: 100 * mean(diff); the factor is applied per element here.
        (100.0 * q.abs(), -100.0 * sign(q) / scale)
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn a_zero_target_divides_by_epsilon() {
        let mut v = [0.0];
        MeanAbsolutePercentageError::default()
            .per_sample(&[0.0], &[1e-7], 1, &mut v, None)
            .unwrap();
        assert!((v[0] - 100.0).abs() < 1e-3);
    }
}
