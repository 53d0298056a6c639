//! `keras.metrics.Hinge`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `mean(max(1 - t p, 0))` per row.
    ///
    /// Labels are expected in `{-1, 1}`; when **every** label of the batch is 0 or 1 they are
    /// mapped to `2t - 1` first (a whole-batch decision, as Keras makes it).
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{Hinge, MetricFn};
    /// let mut h = Hinge::default();
    /// h.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
    /// assert!((h.result() - 1.3).abs() < 1e-6);
    /// ```
    Hinge,
    "hinge",
    Down,
    row_form = RowMetric::Hinge { squared: false },
    per_call mapped = maps_binary_labels,
    |t, p| RowMetric::Hinge { squared: false }.row_in(mapped, t, p)
);

/// Keras's `convert_binary_labels_to_hinge` decision for a batch: whether its labels are mapped
/// to `2t - 1` (every label 0 or 1), as [`RowMetric::maps_binary_labels`] decides it for the
/// hinge forms.
pub(crate) fn maps_binary_labels(y_true: &[f32]) -> bool {
    RowMetric::Hinge { squared: false }.maps_binary_labels(y_true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn signed_labels_are_used_as_given() {
        let mut h = Hinge::default();
        h.update_state(&[-1.0, 1.0, 0.0], &[0.5, 0.5, 0.5], 1, None)
            .unwrap();
        assert!((h.result() - (1.5 + 0.5 + 1.0) / 3.0).abs() < 1e-6);
    }
}
