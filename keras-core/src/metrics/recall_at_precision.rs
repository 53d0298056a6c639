//! `keras.metrics.RecallAtPrecision`.

use super::constrained_rate::constrained_rate_metric;

constrained_rate_metric!(
    /// The best recall over thresholds where precision is at least `precision` (0 when no threshold
    /// reaches it).
    ///
    /// Counts are kept on a grid of `num_thresholds` thresholds `[0, 1/(n-1), ..., 1]` (`[0.5]` for
    /// one threshold), with strict `y_pred > threshold`; `class_id` restricts them to one column,
    /// otherwise every element counts. `precision` must lie in `[0, 1]`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, RecallAtPrecision};
    /// let mut m = RecallAtPrecision::new(0.8).unwrap();
    /// m.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.5, 0.3, 0.9], 1, None).unwrap();
    /// assert!((m.result() - 0.5).abs() < 1e-6);
    /// m.reset_state();
    /// m.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.5, 0.3, 0.9], 1, Some(&[1.0, 0.0, 0.0, 1.0])).unwrap();
    /// assert!((m.result() - 1.0).abs() < 1e-6);
    /// assert!(RecallAtPrecision::new(1.5).is_err());
    /// ```
    RecallAtPrecision,
    "recall_at_precision",
    precision,
    Precision,
    Sensitivity
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn an_unreachable_precision_gives_zero() {
        let mut m = RecallAtPrecision::new(1.0).unwrap();
        m.update_state(&[0.0, 1.0], &[0.9, 0.4], 1, None).unwrap();
        assert_eq!(m.result(), 0.0);
    }
}
