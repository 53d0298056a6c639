//! `keras.metrics.RootMeanSquaredError`.

use super::{mean_squared_error::squared_error, Direction, MeanState, Metric, MetricFn};
use crate::{target::Dense, Result};

/// `sqrt` of the running weighted mean of the per-row mean squared error.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, RootMeanSquaredError};
/// let mut rmse = RootMeanSquaredError::default();
/// rmse.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
/// assert_eq!(rmse.result(), 0.5);
/// ```
#[derive(Debug, Clone, Default)]
pub struct RootMeanSquaredError {
    state: MeanState,
}

impl MetricFn for RootMeanSquaredError {
    fn name(&self) -> &str {
        "root_mean_squared_error"
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
            .update_dense(y_true, y_pred, cols, sample_weight, squared_error)
    }

    fn result(&self) -> f32 {
        self.state.result().sqrt()
    }

    fn reset_state(&mut self) {
        self.state.reset();
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.state.merge(&other.state);
        Ok(())
    }
}

impl<const K: usize> Metric<K> for RootMeanSquaredError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_weight_row_drops_out() {
        let mut rmse = RootMeanSquaredError::default();
        rmse.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert!((rmse.result() - 0.70710677).abs() < 1e-7);
    }
}
