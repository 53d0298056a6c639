//! `keras.metrics.CategoricalAccuracy`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// How often the arg-max of `y_pred` equals the arg-max of the one-hot `y_true` (ties go to the
    /// lowest index on both sides, as `argmax` does).
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{CategoricalAccuracy, MetricFn};
    /// let mut acc = CategoricalAccuracy::default();
    /// let y_true = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
    /// let y_pred = [0.1, 0.9, 0.8, 0.05, 0.95, 0.0];
    /// acc.update_state(&y_true, &y_pred, 3, Some(&[0.7, 0.3])).unwrap();
    /// assert!((acc.result() - 0.3).abs() < 1e-7);
    /// ```
    CategoricalAccuracy,
    "categorical_accuracy",
    Up,
    row_form = RowMetric::ArgmaxesAgree,
    |t, p| RowMetric::ArgmaxesAgree.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn half_of_two_rows_match() {
        let mut acc = CategoricalAccuracy::default();
        let y_true = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let y_pred = [0.1, 0.9, 0.8, 0.05, 0.95, 0.0];
        acc.update_state(&y_true, &y_pred, 3, None).unwrap();
        assert_eq!(acc.result(), 0.5);
    }
}
