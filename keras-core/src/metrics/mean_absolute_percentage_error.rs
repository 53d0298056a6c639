//! `keras.metrics.MeanAbsolutePercentageError`.

use super::{
    mean_state::mean_state_methods, row_math::EPSILON, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of `100 * mean(|t - p| / max(|t|, 1e-7))` per row.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanAbsolutePercentageError, MetricFn};
/// let mut mape = MeanAbsolutePercentageError::default();
/// mape.update_state(&[2.0, 4.0], &[1.0, 5.0], 1, None).unwrap();
/// assert_eq!(mape.result(), 37.5);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MeanAbsolutePercentageError {
    state: MeanState,
}

impl MetricFn for MeanAbsolutePercentageError {
    fn name(&self) -> &str {
        "mean_absolute_percentage_error"
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
                let sum: f32 = t
                    .iter()
                    .zip(p)
                    .map(|(&t, &p)| ((t - p) / t.abs().max(EPSILON)).abs())
                    .sum();
                100.0 * (sum / t.len() as f32)
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for MeanAbsolutePercentageError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_target_divides_by_epsilon() {
        let mut mape = MeanAbsolutePercentageError::default();
        mape.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None)
            .unwrap();
        assert_eq!(mape.result(), 250_000_000.0);
    }
}
