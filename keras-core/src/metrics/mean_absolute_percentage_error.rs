//! `keras.metrics.MeanAbsolutePercentageError`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `100 * mean(|t - p| / max(|t|, 1e-7))` per row.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MeanAbsolutePercentageError, MetricFn};
    /// let mut mape = MeanAbsolutePercentageError::default();
    /// mape.update_state(&[2.0, 4.0], &[1.0, 5.0], 1, None).unwrap();
    /// assert_eq!(mape.result(), 37.5);
    /// ```
    MeanAbsolutePercentageError,
    "mean_absolute_percentage_error",
    Down,
    row_form = RowMetric::AbsolutePercentageError,
    |t, p| RowMetric::AbsolutePercentageError.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn a_zero_target_divides_by_epsilon() {
        let mut mape = MeanAbsolutePercentageError::default();
        mape.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None)
            .unwrap();
        assert_eq!(mape.result(), 250_000_000.0);
    }
}
