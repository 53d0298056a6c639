//! `keras.metrics.CategoricalHinge`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `max(max((1 - t) p) - sum(t p) + 1, 0)` per row.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{CategoricalHinge, MetricFn};
    /// let mut h = CategoricalHinge::default();
    /// h.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
    /// assert!((h.result() - 1.4).abs() < 1e-6);
    /// ```
    CategoricalHinge,
    "categorical_hinge",
    Down,
    row_form = RowMetric::CategoricalHinge,
    |t, p| RowMetric::CategoricalHinge.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn a_margin_of_one_costs_nothing() {
        let mut h = CategoricalHinge::default();
        h.update_state(&[1.0, 0.0], &[2.0, 1.0], 2, None).unwrap();
        assert_eq!(h.result(), 0.0);
    }
}
