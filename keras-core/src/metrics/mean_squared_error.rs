//! `keras.metrics.MeanSquaredError`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `mean((t - p)^2)` per row.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MeanSquaredError, MetricFn};
    /// let mut mse = MeanSquaredError::default();
    /// mse.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
    /// assert_eq!(mse.result(), 0.25);
    /// ```
    MeanSquaredError,
    "mean_squared_error",
    Down,
    row_form = RowMetric::SquaredError,
    |t, p| squared_error(t, p)
);

/// `mean((t - p)^2)` over a row.
pub(crate) fn squared_error(t: &[f32], p: &[f32]) -> f32 {
    RowMetric::SquaredError.row(t, p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn weights_scale_rows_not_elements() {
        let mut mse = MeanSquaredError::default();
        mse.update_state(
            &[0.0, 0.0, 0.0, 0.0],
            &[2.0, 0.0, 1.0, 1.0],
            2,
            Some(&[1.0, 3.0]),
        )
        .unwrap();
        assert_eq!(mse.result(), (2.0 + 3.0) / 4.0);
    }
}
