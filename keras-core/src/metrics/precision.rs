//! `keras.metrics.Precision`.

use super::rate_at_thresholds::rate_at_thresholds;

rate_at_thresholds!(
    /// `tp / (tp + fp)` per threshold, over everything seen so far (divide-no-nan).
    ///
    /// A prediction is positive when `y_pred > threshold` (strict). With `top_k`, only the `k`
    /// largest predictions of each row can be positive (the default threshold then becomes
    /// `-1e10`, so exactly those count); with `class_id`, only that column is counted. Every other
    /// element of `y_true` / `y_pred` counts (flattened).
    ///
    /// [`result`](super::MetricFn::result) is the precision at the first threshold;
    /// [`result_values`](super::MetricFn::result_values) has one per threshold.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, Precision};
    /// let mut p = Precision::new();
    /// p.update_state(&[0.0, 1.0, 1.0, 1.0], &[1.0, 0.0, 1.0, 1.0], 1, None).unwrap();
    /// assert!((p.result() - 2.0 / 3.0).abs() < 1e-7);
    ///
    /// let mut top2 = Precision::new().with_top_k(2).unwrap();
    /// top2.update_state(&[0.0, 0.0, 1.0, 1.0], &[1.0, 1.0, 1.0, 1.0], 4, None).unwrap();
    /// assert_eq!(top2.result(), 0.0);
    /// ```
    Precision,
    "precision",
    fp
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;
    use crate::Error;

    #[test]
    fn class_id_counts_one_column_only() {
        let mut p = Precision::new().with_class_id(1);
        p.update_state(&[0.0, 1.0, 1.0, 0.0], &[0.9, 0.9, 0.9, 0.9], 2, None)
            .unwrap();
        assert_eq!(p.result(), 0.5);
    }

    #[test]
    fn top_k_zero_is_rejected() {
        assert!(matches!(
            Precision::new().with_top_k(0),
            Err(Error::InvalidArgument { name: "top_k", .. })
        ));
    }

    #[test]
    fn thresholds_outside_the_unit_interval_are_rejected() {
        assert!(Precision::new().with_thresholds(&[-0.5]).is_err());
    }
}
