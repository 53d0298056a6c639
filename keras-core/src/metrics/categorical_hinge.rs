//! `keras.metrics.CategoricalHinge`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn};
use crate::{target::Dense, Result};

/// Mean over samples of `max(max((1 - t) p) - sum(t p) + 1, 0)` per row.
///
/// # Examples
/// ```
/// use keras_core::metrics::{CategoricalHinge, MetricFn};
/// let mut h = CategoricalHinge::default();
/// h.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
/// assert!((h.result() - 1.4).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CategoricalHinge {
    state: MeanState,
}

impl MetricFn for CategoricalHinge {
    fn name(&self) -> &str {
        "categorical_hinge"
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
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                let pos: f32 = t.iter().zip(p).map(|(t, p)| t * p).sum();
                let neg = t
                    .iter()
                    .zip(p)
                    .map(|(t, p)| (1.0 - t) * p)
                    .fold(f32::NEG_INFINITY, f32::max);
                (neg - pos + 1.0).max(0.0)
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for CategoricalHinge {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_margin_of_one_costs_nothing() {
        let mut h = CategoricalHinge::default();
        h.update_state(&[1.0, 0.0], &[2.0, 1.0], 2, None).unwrap();
        assert_eq!(h.result(), 0.0);
    }
}
