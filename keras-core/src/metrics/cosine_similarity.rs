//! `keras.metrics.CosineSimilarity`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `sum(t̂ p̂)` per row, where `x̂ = x * min(1 / sqrt(sum x^2), 1 / eps)`
    /// (Keras's `normalize`, so a zero row gives 0). Larger is better.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{CosineSimilarity, MetricFn};
    /// let mut cos = CosineSimilarity::default();
    /// cos.update_state(&[0.0, 1.0, 1.0, 1.0], &[1.0, 0.0, 1.0, 1.0], 2, None).unwrap();
    /// assert!((cos.result() - 0.5).abs() < 1e-6);
    /// ```
    CosineSimilarity,
    "cosine_similarity",
    Up,
    row_form = RowMetric::CosineSimilarity,
    |t, p| RowMetric::CosineSimilarity.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn a_zero_vector_has_similarity_zero() {
        let mut cos = CosineSimilarity::default();
        cos.update_state(&[0.0, 0.0], &[1.0, 2.0], 2, None).unwrap();
        assert_eq!(cos.result(), 0.0);
    }

    #[test]
    fn opposite_vectors_have_similarity_minus_one() {
        let mut cos = CosineSimilarity::default();
        cos.update_state(&[1.0, 1.0], &[-2.0, -2.0], 2, None)
            .unwrap();
        assert!((cos.result() + 1.0).abs() < 1e-6);
    }
}
