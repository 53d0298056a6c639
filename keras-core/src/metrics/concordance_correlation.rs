//! `keras.metrics.ConcordanceCorrelation`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of Lin's concordance correlation along each row.
    ///
    /// Per row, exactly as Keras's `concordance_correlation` (Keras 3 source) computes it:
    /// `mean(2 (t - mean(p)) (p - mean(p)) / (var(t) + var(p) + (mean(t) - mean(p))^2 + 1e-7))`.
    /// Note the first factor centres `t` on `mean(p)`, not `mean(t)`; this type keeps that.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{ConcordanceCorrelation, MetricFn};
    /// let mut ccc = ConcordanceCorrelation::default();
    /// let y_true = [0.0, 1.0, 0.5, 1.0, 1.0, 0.2];
    /// let y_pred = [0.1, 0.9, 0.5, 1.0, 0.9, 0.2];
    /// ccc.update_state(&y_true, &y_pred, 3, None).unwrap();
    /// assert!((ccc.result() - 0.98163203).abs() < 1e-5);
    /// ```
    ConcordanceCorrelation,
    "concordance_correlation",
    Up,
    row_form = RowMetric::ConcordanceCorrelation,
    keras_args = serde_json::json!({"axis": -1}),
    |t, p| RowMetric::ConcordanceCorrelation.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn identical_rows_concord_almost_perfectly() {
        let mut ccc = ConcordanceCorrelation::default();
        ccc.update_state(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 3, None)
            .unwrap();
        assert!((ccc.result() - 1.0).abs() < 1e-5);
    }
}
