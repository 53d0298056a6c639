//! `keras.metrics.CosineSimilarity`.

use super::{
    mean_state::mean_state_methods, row_math::EPSILON, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

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
#[derive(Debug, Clone, Default)]
pub struct CosineSimilarity {
    state: MeanState,
}

/// `min(rsqrt(sum x^2), 1 / eps)`.
fn inverse_norm(x: &[f32]) -> f32 {
    let sq: f32 = x.iter().map(|v| v * v).sum();
    (1.0 / sq.sqrt()).min(1.0 / EPSILON)
}

impl MetricFn for CosineSimilarity {
    fn name(&self) -> &str {
        "cosine_similarity"
    }

    fn direction(&self) -> Direction {
        Direction::Up
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                let (it, ip) = (inverse_norm(t), inverse_norm(p));
                t.iter().zip(p).map(|(&t, &p)| (t * it) * (p * ip)).sum()
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for CosineSimilarity {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

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
