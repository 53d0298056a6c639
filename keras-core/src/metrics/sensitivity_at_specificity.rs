//! `keras.metrics.SensitivityAtSpecificity`.

use super::constrained_rate::constrained_rate_metric;

constrained_rate_metric!(
    /// The best sensitivity (`tp / (tp + fn)`) over thresholds where specificity (`tn / (tn + fp)`)
    /// is at least `specificity`.
    ///
    /// Counts are kept on a grid of `num_thresholds` thresholds `[0, 1/(n-1), ..., 1]` (`[0.5]` for
    /// one threshold), with strict `y_pred > threshold`; `class_id` restricts them to one column,
    /// otherwise every element counts. `specificity` must lie in `[0, 1]`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, SensitivityAtSpecificity};
    /// let mut m = SensitivityAtSpecificity::new(0.5).unwrap();
    /// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, None).unwrap();
    /// assert!((m.result() - 0.5).abs() < 1e-6);
    /// m.reset_state();
    /// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, Some(&[1.0, 1.0, 2.0, 2.0, 1.0])).unwrap();
    /// assert!((m.result() - 0.33333334).abs() < 1e-6);
    /// assert!(SensitivityAtSpecificity::new(1.5).is_err());
    /// ```
    SensitivityAtSpecificity,
    "sensitivity_at_specificity",
    specificity,
    Specificity,
    Sensitivity
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn class_id_restricts_the_counts_to_one_column() {
        let mut m = SensitivityAtSpecificity::new(0.5).unwrap().with_class_id(1);
        m.update_state(&[1.0, 0.0, 0.0, 1.0], &[0.0, 0.2, 0.9, 0.8], 2, None)
            .unwrap();
        assert_eq!(m.result(), 1.0);
    }
}
