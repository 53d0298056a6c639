//! `keras.metrics.KLDivergence`.

use super::{
    mean_state::mean_state_methods, row_math::EPSILON, Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of `sum(t ln(t / p))` per row, with `t` and `p` clipped to `[1e-7, 1]`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{KLDivergence, MetricFn};
/// let mut kld = KLDivergence::default();
/// kld.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
/// assert!((kld.result() - 0.45814306).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct KLDivergence {
    state: MeanState,
}

impl MetricFn for KLDivergence {
    fn name(&self) -> &str {
        "kl_divergence"
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
                t.iter()
                    .zip(p)
                    .map(|(&t, &p)| {
                        let (t, p) = (t.clamp(EPSILON, 1.0), p.clamp(EPSILON, 1.0));
                        t * (t / p).ln()
                    })
                    .sum()
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for KLDivergence {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_distributions_diverge_by_zero() {
        let mut kld = KLDivergence::default();
        kld.update_state(&[0.25, 0.75], &[0.25, 0.75], 2, None)
            .unwrap();
        assert_eq!(kld.result(), 0.0);
    }
}
