//! `keras.metrics.PearsonCorrelation`.

use super::{
    mean_state::mean_state_methods,
    row_math::{mean, variance, EPSILON},
    Direction, MeanState, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean over samples of the Pearson correlation between `y_true` and `y_pred` along each row.
///
/// Per row, as Keras computes it: both sides are centred, divided by their population standard
/// deviation plus `1e-7`, and the products averaged.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, PearsonCorrelation};
/// let mut pcc = PearsonCorrelation::default();
/// let y_true = [0.0, 1.0, 0.5, 1.0, 1.0, 0.2];
/// let y_pred = [0.1, 0.9, 0.5, 1.0, 0.9, 0.2];
/// pcc.update_state(&y_true, &y_pred, 3, None).unwrap();
/// assert!((pcc.result() - 0.9966996).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Default)]
pub struct PearsonCorrelation {
    state: MeanState,
}

/// `(x - mean(x)) / (std(x - mean(x)) + eps)`, into `out`.
fn standardize(x: &[f32], out: &mut Vec<f32>) {
    let m = mean(x);
    out.clear();
    out.extend(x.iter().map(|&v| v - m));
    let denom = variance(out).sqrt() + EPSILON;
    out.iter_mut().for_each(|v| *v /= denom);
}

impl MetricFn for PearsonCorrelation {
    fn name(&self) -> &str {
        "pearson_correlation"
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
        let (mut zt, mut zp) = (Vec::with_capacity(cols), Vec::with_capacity(cols));
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                standardize(t, &mut zt);
                standardize(p, &mut zp);
                zt.iter().zip(&zp).map(|(a, b)| a * b).sum::<f32>() / t.len() as f32
            })
    }

    mean_state_methods!();
}

impl<const K: usize> Metric<K> for PearsonCorrelation {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_affine_prediction_correlates_perfectly() {
        let mut pcc = PearsonCorrelation::default();
        pcc.update_state(&[1.0, 2.0, 3.0], &[-1.0, 1.0, 3.0], 3, None)
            .unwrap();
        assert!((pcc.result() - 1.0).abs() < 1e-5);
    }
}
