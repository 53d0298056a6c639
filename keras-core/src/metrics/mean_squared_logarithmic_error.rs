//! `keras.metrics.MeanSquaredLogarithmicError`.

use super::{
    mean_state::mean_state_methods, row_math::EPSILON, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of `mean((ln(max(p, eps) + 1) - ln(max(t, eps) + 1))^2)` per row.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanSquaredLogarithmicError, MetricFn};
/// let mut msle = MeanSquaredLogarithmicError::default();
/// msle.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
/// assert!((msle.result() - 0.12011322).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Default)]
pub struct MeanSquaredLogarithmicError {
    state: MeanState,
}

impl MetricFn for MeanSquaredLogarithmicError {
    fn name(&self) -> &str {
        "mean_squared_logarithmic_error"
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
                    .map(|(&t, &p)| {
                        let d = (p.max(EPSILON) + 1.0).ln() - (t.max(EPSILON) + 1.0).ln();
                        d * d
                    })
                    .sum();
                sum / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for MeanSquaredLogarithmicError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_weight_row_drops_out() {
        let mut msle = MeanSquaredLogarithmicError::default();
        msle.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert!((msle.result() - 0.24022643).abs() < 1e-7);
    }
}
