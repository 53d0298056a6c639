//! `keras.losses.Poisson`.

use super::elementwise::elementwise_loss;
use super::EPSILON;

elementwise_loss!(
    /// Poisson loss over the last axis: `mean(y_pred - y_true * ln(y_pred + 1e-7))`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, LossScratch, Poisson};
    /// let loss = Poisson::default();
    /// let mut scratch = LossScratch::default();
    /// let out = compute_loss(&loss, &[1.0], &[1.0], &[1, 1], None, false, &mut scratch).unwrap();
    /// assert!((out.value - 1.0).abs() < 1e-6);
    /// ```
    Poisson,
    "poisson",
    Mean,
    device crate::losses::DeviceLoss::Poisson,
    |t, p| {
        let shifted = p + EPSILON;
        (p - t * shifted.ln(), 1.0 - t / shifted)
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn a_zero_prediction_costs_the_log_of_epsilon() {
        let mut v = [0.0];
        let mut g = [0.0];
        Poisson::default()
            .per_sample(&[2.0], &[0.0], 1, &mut v, Some(&mut g))
            .unwrap();
        assert!((v[0] + 2.0 * 1e-7f32.ln()).abs() < 1e-5);
        assert!((g[0] - (1.0 - 2.0 / 1e-7)).abs() < 1.0);
    }
}
