//! `keras.losses.MeanAbsolutePercentageError`.

use super::elementwise::{per_element, Aggregate};
use super::mean_absolute_error::sign;
use super::numeric::maximum;
use super::{Loss, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Mean absolute percentage error over the last axis:
/// `100 * mean(|y_true - y_pred| / max(|y_true|, 1e-7))`.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanAbsolutePercentageError};
/// let mape = MeanAbsolutePercentageError::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&mape, &[2.0, 4.0], &[1.0, 5.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value - 37.5).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanAbsolutePercentageError {
    reduction: Reduction,
}

impl MeanAbsolutePercentageError {
    /// The reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

impl LossFn for MeanAbsolutePercentageError {
    fn name(&self) -> &str {
        "mean_absolute_percentage_error"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()> {
        per_element(
            y_true,
            y_pred,
            cols,
            Aggregate::Mean,
            values,
            grad,
            |t, p| {
                let scale = maximum(t.abs(), EPSILON);
                let q = (t - p) / scale;
                // Keras: 100 * mean(diff); the factor is applied per element here.
                (100.0 * q.abs(), -100.0 * sign(q) / scale)
            },
        )
    }
}

impl<const K: usize> Loss<K> for MeanAbsolutePercentageError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_target_divides_by_epsilon() {
        let mut v = [0.0];
        MeanAbsolutePercentageError::default()
            .per_sample(&[0.0], &[1e-7], 1, &mut v, None)
            .unwrap();
        assert!((v[0] - 100.0).abs() < 1e-3);
    }
}
