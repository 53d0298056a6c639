//! `keras.metrics.Poisson`.

use super::{
    mean_state::mean_state_methods, row_math::EPSILON, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of `mean(p - t ln(p + 1e-7))` per row.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, Poisson};
/// let mut m = Poisson::default();
/// m.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
/// assert!((m.result() - 0.49999997).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Default)]
pub struct Poisson {
    state: MeanState,
}

impl MetricFn for Poisson {
    fn name(&self) -> &str {
        "poisson"
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
                    .map(|(&t, &p)| p - t * (p + EPSILON).ln())
                    .sum();
                sum / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for Poisson {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_weight_rows_do_not_count() {
        let mut m = Poisson::default();
        m.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert!((m.result() - 0.99999994).abs() < 1e-7);
    }
}
