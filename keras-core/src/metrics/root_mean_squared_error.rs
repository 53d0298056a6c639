//! `keras.metrics.RootMeanSquaredError`.

use super::mean_metric_macro::mean_metric;
use super::mean_squared_error::squared_error;

mean_metric!(
    /// `sqrt` of the running weighted mean of the per-row mean squared error.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, RootMeanSquaredError};
    /// let mut rmse = RootMeanSquaredError::default();
    /// rmse.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
    /// assert_eq!(rmse.result(), 0.5);
    /// ```
    RootMeanSquaredError,
    "root_mean_squared_error",
    Down,
    row_form = crate::metrics::RowMetric::SquaredError,
    result = f32::sqrt,
    |t, p| squared_error(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn a_zero_weight_row_drops_out() {
        let mut rmse = RootMeanSquaredError::default();
        rmse.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert!((rmse.result() - 0.70710677).abs() < 1e-7);
    }
}
