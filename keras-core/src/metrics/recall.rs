//! `keras.metrics.Recall`.

use super::rate_at_thresholds::rate_at_thresholds;

rate_at_thresholds!(
    /// `tp / (tp + fn)` per threshold, over everything seen so far (divide-no-nan).
    ///
    /// A prediction is positive when `y_pred > threshold` (strict). With `top_k`, recall is how
    /// often a label is among the `k` largest predictions of its row (the default threshold then
    /// becomes `-1e10`); with `class_id`, only that column is counted. Otherwise every element of
    /// `y_true` / `y_pred` counts (flattened).
    ///
    /// [`result`](super::MetricFn::result) is the recall at the first threshold;
    /// [`result_values`](super::MetricFn::result_values) has one per threshold.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, Recall};
    /// let mut p = Recall::new();
    /// p.update_state(&[0.0, 1.0, 1.0, 1.0], &[1.0, 0.0, 1.0, 1.0], 1, None).unwrap();
    /// assert!((p.result() - 2.0 / 3.0).abs() < 1e-7);
    ///
    /// let mut top2 = Recall::new().with_top_k(2).unwrap();
    /// top2.update_state(&[0.0, 0.0, 1.0, 1.0], &[1.0, 1.0, 1.0, 1.0], 4, None).unwrap();
    /// assert_eq!(top2.result(), 0.0);
    /// ```
    Recall,
    "recall",
    fn_
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;
    use crate::Error;

    #[test]
    fn class_id_counts_one_column_only() {
        let mut p = Recall::new().with_class_id(1);
        p.update_state(&[0.0, 1.0, 1.0, 1.0], &[0.9, 0.9, 0.9, 0.1], 2, None)
            .unwrap();
        assert_eq!(p.result(), 0.5);
    }

    #[test]
    fn top_k_zero_is_rejected() {
        assert!(matches!(
            Recall::new().with_top_k(0),
            Err(Error::InvalidArgument { name: "top_k", .. })
        ));
    }

    #[test]
    fn thresholds_outside_the_unit_interval_are_rejected() {
        assert!(Recall::new().with_thresholds(&[-0.5]).is_err());
    }
}
