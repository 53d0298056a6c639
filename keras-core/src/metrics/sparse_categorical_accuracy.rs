//! `keras.metrics.SparseCategoricalAccuracy`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn, RowMetric};
use crate::{target::Sparse, Result};

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
        self.state
            .update_sparse(y_true, y_pred, cols, sample_weight, |_, label, p| {
                Ok(RowMetric::ArgmaxIsLabel.row(&[label], p))
            })
    }

    fn row_form(&self) -> Option<RowMetric> {
        Some(RowMetric::ArgmaxIsLabel)
    }

    mean_state_methods!();

    fn keras_config(&self) -> Option<serde_json::Value> {
        let args = serde_json::Value::Null;
        Some(super::keras_config::object(
            "SparseCategoricalAccuracy",
            self.name(),
            args,
        ))
    }
}

impl<const K: usize> Metric<K> for SparseCategoricalAccuracy {
    type Target = Sparse;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_hits_divide_by_the_sum_of_weights() {
        let mut acc = SparseCategoricalAccuracy::default();
        let y_pred = [0.1, 0.6, 0.3, 0.05, 0.95, 0.0];
        acc.update_state(&[2.0, 1.0], &y_pred, 3, Some(&[0.7, 0.3]))
            .unwrap();
        assert!((acc.result() - 0.3).abs() < 1e-7);
    }
}
