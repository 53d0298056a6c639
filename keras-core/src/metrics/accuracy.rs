//! `keras.metrics.Accuracy`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// How often `y_pred` equals `y_true` exactly (float equality), averaged over each row and then
    /// over samples. Use it for integer-valued predictions; for probabilities use
    /// [`BinaryAccuracy`](super::BinaryAccuracy) or
    /// [`CategoricalAccuracy`](super::CategoricalAccuracy).
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{Accuracy, MetricFn};
    /// let mut acc = Accuracy::default();
    /// acc.update_state(&[1.0, 2.0, 3.0, 4.0], &[0.0, 2.0, 3.0, 4.0], 1, None).unwrap();
    /// assert_eq!(acc.result(), 0.75);
    /// ```
    Accuracy,
    "accuracy",
    Up,
    row_form = RowMetric::ExactMatches,
    |t, p| RowMetric::ExactMatches.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn weights_select_which_rows_count() {
        let mut acc = Accuracy::default();
        let (t, p) = ([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 3.0, 4.0]);
        acc.update_state(&t, &p, 1, Some(&[1.0, 1.0, 0.0, 0.0]))
            .unwrap();
        assert_eq!(acc.result(), 0.5);
    }

    #[test]
    fn each_row_is_averaged_over_its_columns() {
        let mut acc = Accuracy::default();
        acc.update_state(&[1.0, 1.0], &[1.0, 0.0], 2, None).unwrap();
        assert_eq!(acc.result(), 0.5);
    }
}
