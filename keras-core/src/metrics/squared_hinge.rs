//! `keras.metrics.SquaredHinge`.

use super::{
    hinge::hinge_labels, mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of `mean(max(1 - t p, 0)^2)` per row, with the same whole-batch `{0, 1}` to
/// `{-1, 1}` label mapping as [`Hinge`](super::Hinge).
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, SquaredHinge};
/// let mut h = SquaredHinge::default();
/// h.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
/// assert!((h.result() - 1.86).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SquaredHinge {
    state: MeanState,
}

impl MetricFn for SquaredHinge {
    fn name(&self) -> &str {
        "squared_hinge"
    }

    fn direction(&self) -> Direction {
        Direction::Down
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let label = hinge_labels(y_true);
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                let sum: f32 = t
                    .iter()
                    .zip(p)
                    .map(|(&t, &p)| {
                        let m = (1.0 - label(t) * p).max(0.0);
                        m * m
                    })
                    .sum();
                sum / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for SquaredHinge {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confident_correct_predictions_cost_nothing() {
        let mut h = SquaredHinge::default();
        h.update_state(&[1.0, -1.0], &[2.0, -3.0], 1, None).unwrap();
        assert_eq!(h.result(), 0.0);
    }
}
