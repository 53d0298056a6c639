//! `keras.metrics.Accuracy`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn};
use crate::{target::Dense, Result};

/// How often `y_pred` equals `y_true` exactly (float equality), averaged over each row and then
/// over samples. Use it for integer-valued predictions; for probabilities use
/// [`BinaryAccuracy`](super::BinaryAccuracy) or [`CategoricalAccuracy`](super::CategoricalAccuracy).
///
/// # Examples
/// ```
/// use keras_core::metrics::{Accuracy, MetricFn};
/// let mut acc = Accuracy::default();
/// acc.update_state(&[1.0, 2.0, 3.0, 4.0], &[0.0, 2.0, 3.0, 4.0], 1, None).unwrap();
/// assert_eq!(acc.result(), 0.75);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Accuracy {
    state: MeanState,
}

impl MetricFn for Accuracy {
    fn name(&self) -> &str {
        "accuracy"
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
                let hits = t.iter().zip(p).filter(|(t, p)| t == p).count();
                hits as f32 / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for Accuracy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_select_which_rows_count() {
        let mut acc = Accuracy::default();
        let (t, p) = ([1.0, 2.0, 3.0, 4.0], [0.0, 2.0, 3.0, 4.0]);
        acc.update_state(&t, &p, 1, Some(&[1.0, 1.0, 0.0, 0.0]))
            .unwrap();
        assert_eq!(acc.result(), 0.5);
    }

    #[test]
    fn each_row_is_averaged_over_its_columns() {
        let mut acc = Accuracy::default();
        acc.update_state(&[1.0, 1.0], &[1.0, 0.0], 2, None).unwrap();
        assert_eq!(acc.result(), 0.5);
    }
}
