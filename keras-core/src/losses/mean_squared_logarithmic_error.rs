//! `keras.losses.MeanSquaredLogarithmicError`.

use super::elementwise::{per_element, Aggregate};
use super::numeric::maximum;
use super::{Loss, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Mean squared logarithmic error over the last axis:
/// `mean((ln(max(y_pred, 1e-7) + 1) - ln(max(y_true, 1e-7) + 1))^2)`.
///
/// Values at or below `1e-7` are replaced by `1e-7`, so the gradient there is 0.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanSquaredLogarithmicError};
/// let msle = MeanSquaredLogarithmicError::default();
/// let mut scratch = LossScratch::default();
/// let e = std::f32::consts::E;
/// let out = compute_loss(&msle, &[0.0], &[e - 1.0], &[1, 1], None, false, &mut scratch).unwrap();
/// assert!((out.value - 1.0).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanSquaredLogarithmicError {
    reduction: Reduction,
}

impl MeanSquaredLogarithmicError {
    /// The reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

impl LossFn for MeanSquaredLogarithmicError {
    fn name(&self) -> &str {
        "mean_squared_logarithmic_error"
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
                let shifted = maximum(p, EPSILON) + 1.0;
                let d = shifted.ln() - (maximum(t, EPSILON) + 1.0).ln();
                let slope = if p > EPSILON { 2.0 * d / shifted } else { 0.0 };
                (d * d, slope)
            },
        )
    }
}

impl<const K: usize> Loss<K> for MeanSquaredLogarithmicError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negative_predictions_count_as_epsilon_and_get_no_gradient() {
        let mut v = [0.0];
        let mut g = [1.0];
        MeanSquaredLogarithmicError::default()
            .per_sample(&[1.0], &[-3.0], 1, &mut v, Some(&mut g))
            .unwrap();
        let expected = (1.0f32 + 1e-7).ln() - 2.0f32.ln();
        assert!((v[0] - expected * expected).abs() < 1e-6);
        assert_eq!(g, [0.0]);
    }
}
