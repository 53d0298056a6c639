//! `keras.metrics.MeanAbsoluteError`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn};
use crate::{target::Dense, Result};

/// Mean over samples of `mean(|t - p|)` per row.
///
/// Logged as `"mae"`, the name `compile(metrics=["mae"])` gives it. Keras's class default name is
/// `"mean_absolute_error"`: [`MeanAbsoluteError::keras_named`] (or any name through
/// [`Named`](super::Named)) reports it that way.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanAbsoluteError, MetricFn};
/// let mut mae = MeanAbsoluteError::default();
/// mae.update_state(&[0.0, 1.0], &[1.0, 1.0], 1, None).unwrap();
/// assert_eq!((mae.name(), mae.result()), ("mae", 0.5));
/// assert_eq!(MeanAbsoluteError::keras_named().name(), "mean_absolute_error");
/// ```
#[derive(Debug, Clone, Default)]
pub struct MeanAbsoluteError {
    state: MeanState,
}

impl MeanAbsoluteError {
    /// The metric under Keras's class default name, `"mean_absolute_error"`.
    pub fn keras_named() -> super::Named<Self> {
        super::Named::new("mean_absolute_error", Self::default())
    }
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
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                let sum: f32 = t.iter().zip(p).map(|(t, p)| (t - p).abs()).sum();
                sum / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for MeanAbsoluteError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_weight_row_drops_out() {
        let mut mae = MeanAbsoluteError::default();
        mae.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert_eq!(mae.result(), 0.5);
    }
}
