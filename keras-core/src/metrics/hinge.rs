//! `keras.metrics.Hinge`.

use super::mean_metric_macro::mean_metric;
use super::row_math::mean_of;

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
    per_call label = hinge_labels,
    |t, p| mean_of(t, p, |t, p| (1.0 - label(t) * p).max(0.0))
);

/// Keras's `convert_binary_labels_to_hinge`: `2t - 1` for the whole batch when every label is 0
/// or 1, else the labels unchanged.
pub(crate) fn hinge_labels(y_true: &[f32]) -> impl Fn(f32) -> f32 {
    let binary = y_true.iter().all(|&t| t == 0.0 || t == 1.0);
    move |t| if binary { 2.0 * t - 1.0 } else { t }
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
