//! `keras.metrics.SquaredHinge`.

use super::hinge::maps_binary_labels;
use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `mean(max(1 - t p, 0)^2)` per row, with the same whole-batch `{0, 1}`
    /// to `{-1, 1}` label mapping as [`Hinge`](super::Hinge).
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, SquaredHinge};
    /// let mut h = SquaredHinge::default();
    /// h.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
    /// assert!((h.result() - 1.86).abs() < 1e-6);
    /// ```
    SquaredHinge,
    "squared_hinge",
    Down,
    row_form = RowMetric::Hinge { squared: true },
    per_call mapped = maps_binary_labels,
    |t, p| RowMetric::Hinge { squared: true }.row_in(mapped, t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn confident_correct_predictions_cost_nothing() {
        let mut h = SquaredHinge::default();
        h.update_state(&[1.0, -1.0], &[2.0, -3.0], 1, None).unwrap();
        assert_eq!(h.result(), 0.0);
    }
}
