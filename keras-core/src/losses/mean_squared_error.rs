//! `keras.losses.MeanSquaredError`.

use super::elementwise::elementwise_loss;

elementwise_loss!(
    /// Mean of squared errors over the last axis: `mean((y_true - y_pred)^2)`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, LossScratch, MeanSquaredError};
    /// let mse = MeanSquaredError::default();
    /// let mut scratch = LossScratch::default();
    /// let out = compute_loss(&mse, &[0.0, 1.0], &[1.0, 1.0], &[1, 2], None, false, &mut scratch).unwrap();
    /// assert_eq!(out.value, 0.5);
    /// ```
    MeanSquaredError,
    "mean_squared_error",
    Mean,
    device crate::losses::DeviceLoss::MeanSquaredError,
    |t, p| {
        let d = t - p;
        (d * d, -2.0 * d)
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::Loss;
    use crate::losses::LossFn;
    use crate::target::Dense;

    #[test]
    fn the_gradient_is_twice_the_error_over_the_width() {
        let mut v = [0.0];
        let mut g = [0.0; 2];
        MeanSquaredError::default()
            .per_sample(&[0.0, 1.0], &[1.0, 3.0], 2, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v, [2.5]);
        assert_eq!(g, [1.0, 2.0]);
    }

    #[test]
    fn it_takes_as_many_targets_as_outputs() {
        use crate::target::Target;
        let target: Dense<4> = <MeanSquaredError as Loss<4>>::Target::default();
        assert_eq!(target, Dense::<4>);
        assert_eq!(<Dense<4> as Target>::WIDTH, 4);
    }
}
