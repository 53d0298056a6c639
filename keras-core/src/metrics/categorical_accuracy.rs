//! `keras.metrics.CategoricalAccuracy`.

use super::{
    mean_state::mean_state_methods, row_math::argmax, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// How often the arg-max of `y_pred` equals the arg-max of the one-hot `y_true` (ties go to the
/// lowest index on both sides, as `argmax` does).
///
/// # Examples
/// ```
/// use keras_core::metrics::{CategoricalAccuracy, MetricFn};
/// let mut acc = CategoricalAccuracy::default();
/// let y_true = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
/// let y_pred = [0.1, 0.9, 0.8, 0.05, 0.95, 0.0];
/// acc.update_state(&y_true, &y_pred, 3, Some(&[0.7, 0.3])).unwrap();
/// assert!((acc.result() - 0.3).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CategoricalAccuracy {
    state: MeanState,
}

impl MetricFn for CategoricalAccuracy {
    fn name(&self) -> &str {
        "categorical_accuracy"
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
                if argmax(t) == argmax(p) {
                    1.0
                } else {
                    0.0
                }
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for CategoricalAccuracy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_of_two_rows_match() {
        let mut acc = CategoricalAccuracy::default();
        let y_true = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
        let y_pred = [0.1, 0.9, 0.8, 0.05, 0.95, 0.0];
        acc.update_state(&y_true, &y_pred, 3, None).unwrap();
        assert_eq!(acc.result(), 0.5);
    }
}
