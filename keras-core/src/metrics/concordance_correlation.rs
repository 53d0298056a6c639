//! `keras.metrics.ConcordanceCorrelation`.

use super::{
    mean_state::mean_state_methods,
    row_math::{mean, variance, EPSILON},
    Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of Lin's concordance correlation along each row.
///
/// Per row, exactly as Keras's `concordance_correlation` (Keras 3 source) computes it:
/// `mean(2 (t - mean(p)) (p - mean(p)) / (var(t) + var(p) + (mean(t) - mean(p))^2 + 1e-7))`.
/// Note the first factor centres `t` on `mean(p)`, not `mean(t)`; this type keeps that.
///
/// # Examples
/// ```
/// use keras_core::metrics::{ConcordanceCorrelation, MetricFn};
/// let mut ccc = ConcordanceCorrelation::default();
/// let y_true = [0.0, 1.0, 0.5, 1.0, 1.0, 0.2];
/// let y_pred = [0.1, 0.9, 0.5, 1.0, 0.9, 0.2];
/// ccc.update_state(&y_true, &y_pred, 3, None).unwrap();
/// assert!((ccc.result() - 0.98163203).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Default)]
pub struct ConcordanceCorrelation {
    state: MeanState,
}

impl MetricFn for ConcordanceCorrelation {
    fn name(&self) -> &str {
        "concordance_correlation"
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
        let mut centred = Vec::with_capacity(cols);
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                let (mt, mp) = (mean(t), mean(p));
                centred.clear();
                centred.extend(t.iter().map(|&v| v - mt));
                let vt = variance(&centred);
                centred.clear();
                centred.extend(p.iter().map(|&v| v - mp));
                let vp = variance(&centred);
                let norm = vt + vp + (mt - mp) * (mt - mp);
                let sum: f32 = t
                    .iter()
                    .zip(p)
                    .map(|(&t, &p)| 2.0 * ((t - mp) * (p - mp)) / (norm + EPSILON))
                    .sum();
                sum / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for ConcordanceCorrelation {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_rows_concord_almost_perfectly() {
        let mut ccc = ConcordanceCorrelation::default();
        ccc.update_state(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0], 3, None)
            .unwrap();
        assert!((ccc.result() - 1.0).abs() < 1e-5);
    }
}
