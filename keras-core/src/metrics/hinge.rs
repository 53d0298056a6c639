//! `keras.metrics.Hinge`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn};
use crate::{target::Dense, Result};

/// Mean over samples of `mean(max(1 - t p, 0))` per row.
///
/// Labels are expected in `{-1, 1}`; when **every** label of the batch is 0 or 1 they are mapped
/// to `2t - 1` first (a whole-batch decision, as Keras makes it).
///
/// # Examples
/// ```
/// use keras_core::metrics::{Hinge, MetricFn};
/// let mut h = Hinge::default();
/// h.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
/// assert!((h.result() - 1.3).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Hinge {
    state: MeanState,
}

/// Keras's `convert_binary_labels_to_hinge`: `2t - 1` for the whole batch when every label is 0
/// or 1, else the labels unchanged.
pub(crate) fn hinge_labels(y_true: &[f32]) -> impl Fn(f32) -> f32 {
    let binary = y_true.iter().all(|&t| t == 0.0 || t == 1.0);
    move |t| if binary { 2.0 * t - 1.0 } else { t }
}

impl MetricFn for Hinge {
    fn name(&self) -> &str {
        "hinge"
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
                    .map(|(&t, &p)| (1.0 - label(t) * p).max(0.0))
                    .sum();
                sum / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for Hinge {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_labels_are_used_as_given() {
        let mut h = Hinge::default();
        h.update_state(&[-1.0, 1.0, 0.0], &[0.5, 0.5, 0.5], 1, None)
            .unwrap();
        assert!((h.result() - (1.5 + 0.5 + 1.0) / 3.0).abs() < 1e-6);
    }
}
