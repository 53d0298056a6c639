//! `keras.metrics.SquaredHinge`.

use super::hinge::hinge_labels;
use super::mean_metric_macro::mean_metric;
use super::row_math::mean_of;

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
    per_call label = hinge_labels,
    |t, p| mean_of(t, p, |t, p| {
        let m = (1.0 - label(t) * p).max(0.0);
        m * m
    })
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
