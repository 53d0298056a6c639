//! `keras.metrics.SpecificityAtSensitivity`.

use super::constrained_rate::constrained_rate_metric;

constrained_rate_metric!(
    /// The best specificity (`tn / (tn + fp)`) over thresholds where sensitivity (`tp / (tp + fn)`)
    /// is at least `sensitivity`.
    ///
    /// Counts are kept on a grid of `num_thresholds` thresholds `[0, 1/(n-1), ..., 1]` (`[0.5]` for
    /// one threshold), with strict `y_pred > threshold`; `class_id` restricts them to one column,
    /// otherwise every element counts. `sensitivity` must lie in `[0, 1]`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, SpecificityAtSensitivity};
    /// let mut m = SpecificityAtSensitivity::new(0.5).unwrap();
    /// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, None).unwrap();
    /// assert!((m.result() - 0.6666667).abs() < 1e-6);
    /// m.reset_state();
    /// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, Some(&[1.0, 1.0, 2.0, 2.0, 2.0])).unwrap();
    /// assert!((m.result() - 0.5).abs() < 1e-6);
    /// assert!(SpecificityAtSensitivity::new(1.5).is_err());
    /// ```
    SpecificityAtSensitivity,
    "specificity_at_sensitivity",
    sensitivity,
    Sensitivity,
    Specificity
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn a_single_threshold_grid_is_one_half() {
        let mut m = SpecificityAtSensitivity::new(0.5)
            .unwrap()
            .with_num_thresholds(1)
            .unwrap();
        m.update_state(&[0.0, 1.0], &[0.4, 0.6], 1, None).unwrap();
        assert_eq!(m.result(), 1.0);
        assert!(SpecificityAtSensitivity::new(0.5)
            .unwrap()
            .with_num_thresholds(0)
            .is_err());
    }
}
