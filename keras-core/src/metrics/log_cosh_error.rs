//! `keras.metrics.LogCoshError`.

use super::{
    mean_state::mean_state_methods, row_math::softplus, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of `mean(log(cosh(p - t)))` per row, computed as Keras does:
/// `x + softplus(-2x) - ln 2`. Logged as `"logcosh"`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{LogCoshError, MetricFn};
/// let mut m = LogCoshError::default();
/// m.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
/// assert!((m.result() - 0.10844523).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Default)]
pub struct LogCoshError {
    state: MeanState,
}

impl MetricFn for LogCoshError {
    fn name(&self) -> &str {
        "logcosh"
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
        let ln2 = 2.0f32.ln();
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                let sum: f32 = t
                    .iter()
                    .zip(p)
                    .map(|(&t, &p)| {
                        let x = p - t;
                        x + softplus(x * -2.0) - ln2
                    })
                    .sum();
                sum / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for LogCoshError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_errors_grow_linearly() {
        let mut m = LogCoshError::default();
        m.update_state(&[0.0], &[100.0], 1, None).unwrap();
        assert!((m.result() - (100.0 - 2.0f32.ln())).abs() < 1e-4);
    }
}
