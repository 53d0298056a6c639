//! `keras.metrics.PrecisionAtRecall`.

use super::constrained_rate::constrained_rate_metric;

constrained_rate_metric!(
    /// The best precision over thresholds where recall is at least `recall`.
    ///
    /// Counts are kept on a grid of `num_thresholds` thresholds `[0, 1/(n-1), ..., 1]` (`[0.5]` for
    /// one threshold), with strict `y_pred > threshold`; `class_id` restricts them to one column,
    /// otherwise every element counts. `recall` must lie in `[0, 1]`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, PrecisionAtRecall};
    /// let mut m = PrecisionAtRecall::new(0.5).unwrap();
    /// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, None).unwrap();
    /// assert!((m.result() - 0.5).abs() < 1e-6);
    /// m.reset_state();
    /// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, Some(&[2.0, 2.0, 2.0, 1.0, 1.0])).unwrap();
    /// assert!((m.result() - 0.33333334).abs() < 1e-6);
    /// assert!(PrecisionAtRecall::new(1.5).is_err());
    /// ```
    PrecisionAtRecall,
    "precision_at_recall",
    recall,
    Sensitivity,
    Precision
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn an_unreachable_recall_gives_zero() {
        let mut m = PrecisionAtRecall::new(1.0)
            .unwrap()
            .with_num_thresholds(3)
            .unwrap();
        // Recall 1 needs threshold 0, where precision is 1/2.
        m.update_state(&[0.0, 1.0], &[0.6, 0.4], 1, None).unwrap();
        assert_eq!(m.result(), 0.5);
    }
}
