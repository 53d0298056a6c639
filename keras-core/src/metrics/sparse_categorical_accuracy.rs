//! `keras.metrics.SparseCategoricalAccuracy`.

use super::{Direction, MeanState, Metric, MetricFn};
use crate::{target::Sparse, Error, Result};

/// How often the arg-max of `y_pred` equals the integer label.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, SparseCategoricalAccuracy};
/// let mut acc = SparseCategoricalAccuracy::default();
/// acc.update_state(&[1.0, 0.0], &[0.1, 0.9, 0.2, 0.8], 2, None).unwrap();
/// assert_eq!(acc.result(), 0.5);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SparseCategoricalAccuracy {
    state: MeanState,
}

/// Index of the first maximum of a row (ties go to the lowest index, as `argmax` does).
pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

impl MetricFn for SparseCategoricalAccuracy {
    fn name(&self) -> &str {
        "sparse_categorical_accuracy"
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
        let rows = y_pred.len() / cols.max(1);
        if y_true.len() != rows {
            return Err(Error::ShapeMismatch {
                name: "y_true",
                expected: format!("{rows} class ids"),
                got: format!("{} values", y_true.len()),
            });
        }
        let hits = (0..rows).map(|r| {
            let pred = argmax(&y_pred[r * cols..(r + 1) * cols]);
            if pred as f32 == y_true[r] {
                1.0
            } else {
                0.0
            }
        });
        self.state.update(hits, sample_weight);
        Ok(())
    }

    fn result(&self) -> f32 {
        self.state.result()
    }

    fn reset_state(&mut self) {
        self.state.reset();
    }

    fn merge_state(&mut self, other: &Self) {
        self.state.merge(&other.state);
    }
}

impl<const K: usize> Metric<K> for SparseCategoricalAccuracy {
    type Target = Sparse;
}
