//! `keras.metrics.MeanSquaredLogarithmicError`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `mean((ln(max(p, eps) + 1) - ln(max(t, eps) + 1))^2)` per row.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MeanSquaredLogarithmicError, MetricFn};
    /// let mut msle = MeanSquaredLogarithmicError::default();
    /// msle.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
    /// assert!((msle.result() - 0.12011322).abs() < 1e-7);
    /// ```
    MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error",
    Down,
    row_form = RowMetric::SquaredLogarithmicError,
    |t, p| RowMetric::SquaredLogarithmicError.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn a_zero_weight_row_drops_out() {
        let mut msle = MeanSquaredLogarithmicError::default();
        msle.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert!((msle.result() - 0.24022643).abs() < 1e-7);
    }
}
