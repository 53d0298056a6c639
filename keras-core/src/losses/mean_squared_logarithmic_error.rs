//! `keras.losses.MeanSquaredLogarithmicError`.

use super::elementwise::elementwise_loss;
use super::numeric::maximum;
use super::EPSILON;

elementwise_loss!(
    /// Mean squared logarithmic error over the last axis:
    /// `mean((ln(max(y_pred, 1e-7) + 1) - ln(max(y_true, 1e-7) + 1))^2)`.
    ///
    /// Values at or below `1e-7` are replaced by `1e-7`, so the gradient there is 0.
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, LossScratch, MeanSquaredLogarithmicError};
    /// let msle = MeanSquaredLogarithmicError::default();
    /// let mut scratch = LossScratch::default();
    /// let e = std::f32::consts::E;
    /// let out = compute_loss(&msle, &[0.0], &[e - 1.0], &[1, 1], None, false, &mut scratch).unwrap();
    /// assert!((out.value - 1.0).abs() < 1e-5);
    /// ```
    MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error",
    Mean,
    device crate::losses::DeviceLoss::MeanSquaredLogarithmicError,
    |t, p| {
        let shifted = maximum(p, EPSILON) + 1.0;
        let d = shifted.ln() - (maximum(t, EPSILON) + 1.0).ln();
        let slope = if p > EPSILON { 2.0 * d / shifted } else { 0.0 };
        (d * d, slope)
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn negative_predictions_count_as_epsilon_and_get_no_gradient() {
        let mut v = [0.0];
        let mut g = [1.0];
        MeanSquaredLogarithmicError::default()
            .per_sample(&[1.0], &[-3.0], 1, &mut v, Some(&mut g))
            .unwrap();
        let expected = (1.0f32 + 1e-7).ln() - 2.0f32.ln();
        assert!((v[0] - expected * expected).abs() < 1e-6);
        assert_eq!(g, [0.0]);
    }
}
