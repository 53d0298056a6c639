//! `keras.losses.MeanAbsoluteError`.

use super::elementwise::elementwise_loss;
use super::numeric::sign;

elementwise_loss!(
    /// Mean of absolute errors over the last axis: `mean(|y_true - y_pred|)`.
    ///
    /// The gradient at `y_pred == y_true` is 0 (the sign of 0), as in JAX.
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, LossScratch, MeanAbsoluteError};
    /// let mae = MeanAbsoluteError::default();
    /// let mut scratch = LossScratch::default();
    /// let out = compute_loss(&mae, &[0.0, 1.0], &[1.0, -1.0], &[1, 2], None, false, &mut scratch).unwrap();
    /// assert_eq!(out.value, 1.5);
    /// ```
    MeanAbsoluteError,
    "mean_absolute_error",
    Mean,
    device crate::losses::DeviceLoss::MeanAbsoluteError,
    |t, p| {
        let d = t - p;
        (d.abs(), -sign(d))
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn the_gradient_is_the_sign_of_the_error_over_the_width() {
        let mut v = [0.0];
        let mut g = [0.0; 3];
        MeanAbsoluteError::default()
            .per_sample(&[0.0, 1.0, 2.0], &[1.0, -1.0, 2.0], 3, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v, [1.0]);
        assert_eq!(g, [1.0 / 3.0, -1.0 / 3.0, 0.0]);
    }
}
