//! `keras.metrics.MeanAbsoluteError`.

use super::{Direction, MeanState, Metric, MetricFn};
use crate::{target::Dense, Result};

/// Sample-level mean of `mean(|y_true - y_pred|)` over the last axis. Logged as `"mae"`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanAbsoluteError, MetricFn};
/// let mut mae = MeanAbsoluteError::default();
/// mae.update_state(&[0.0, 1.0], &[1.0, 1.0], 1, None).unwrap();
/// assert_eq!(mae.result(), 0.5);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MeanAbsoluteError {
    state: MeanState,
}

impl MetricFn for MeanAbsoluteError {
    fn name(&self) -> &str {
        "mae"
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
        crate::losses::check_dense(y_true, y_pred)?;
        let rows = y_pred.len() / cols.max(1);
        let values = (0..rows).map(|r| {
            let range = r * cols..(r + 1) * cols;
            let s: f32 = y_true[range.clone()]
                .iter()
                .zip(&y_pred[range])
                .map(|(t, p)| (t - p).abs())
                .sum();
            s / cols as f32
        });
        self.state.update(values, sample_weight);
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

impl<const K: usize> Metric<K> for MeanAbsoluteError {
    type Target = Dense<K>;
}
