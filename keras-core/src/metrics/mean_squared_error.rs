//! `keras.metrics.MeanSquaredError`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn};
use crate::{target::Dense, Result};

/// Mean over samples of `mean((t - p)^2)` per row.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanSquaredError, MetricFn};
/// let mut mse = MeanSquaredError::default();
/// mse.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
/// assert_eq!(mse.result(), 0.25);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MeanSquaredError {
    state: MeanState,
}

/// `mean((t - p)^2)` over a row.
pub(crate) fn squared_error(t: &[f32], p: &[f32]) -> f32 {
    let sum: f32 = t.iter().zip(p).map(|(t, p)| (t - p) * (t - p)).sum();
    sum / t.len() as f32
}

impl MetricFn for MeanSquaredError {
    fn name(&self) -> &str {
        "mean_squared_error"
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

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for MeanSquaredError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_scale_rows_not_elements() {
        let mut mse = MeanSquaredError::default();
        mse.update_state(
            &[0.0, 0.0, 0.0, 0.0],
            &[2.0, 0.0, 1.0, 1.0],
            2,
            Some(&[1.0, 3.0]),
        )
        .unwrap();
        assert_eq!(mse.result(), (2.0 + 3.0) / 4.0);
    }
}
