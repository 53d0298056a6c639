//! `keras.metrics.PearsonCorrelation`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of the Pearson correlation between `y_true` and `y_pred` along each row.
    ///
    /// Per row, as Keras computes it: both sides are centred, divided by their population standard
    /// deviation plus `1e-7`, and the products averaged.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, PearsonCorrelation};
    /// let mut pcc = PearsonCorrelation::default();
    /// let y_true = [0.0, 1.0, 0.5, 1.0, 1.0, 0.2];
    /// let y_pred = [0.1, 0.9, 0.5, 1.0, 0.9, 0.2];
    /// pcc.update_state(&y_true, &y_pred, 3, None).unwrap();
    /// assert!((pcc.result() - 0.9966996).abs() < 1e-5);
    /// ```
    PearsonCorrelation,
    "pearson_correlation",
    Up,
    row_form = RowMetric::PearsonCorrelation,
    keras_args = serde_json::json!({"axis": -1}),
    |t, p| RowMetric::PearsonCorrelation.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn an_affine_prediction_correlates_perfectly() {
        let mut pcc = PearsonCorrelation::default();
        pcc.update_state(&[1.0, 2.0, 3.0], &[-1.0, 1.0, 3.0], 3, None)
            .unwrap();
        assert!((pcc.result() - 1.0).abs() < 1e-5);
    }
}
