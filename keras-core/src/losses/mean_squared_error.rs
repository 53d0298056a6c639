//! `keras.losses.MeanSquaredError`.

use super::{Loss, LossFn, Reduction};
use crate::{target::Dense, Result};

/// Mean of squared errors over the last axis: `mean((y_true - y_pred)^2)`.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanSquaredError};
/// let mse = MeanSquaredError::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&mse, &[0.0, 1.0], &[1.0, 1.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert_eq!(out.value, 0.5);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanSquaredError {
    reduction: Reduction,
}

impl MeanSquaredError {
    /// A mean squared error with the given reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

impl LossFn for MeanSquaredError {
    fn name(&self) -> &str {
        "mean_squared_error"
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
        mut grad: Option<&mut [f32]>,
    ) -> Result<()> {
        super::check_dense(y_true, y_pred)?;
        let inv = 1.0 / cols as f32;
        for (r, v) in values.iter_mut().enumerate() {
            let mut acc = 0.0f32;
            for c in r * cols..(r + 1) * cols {
                let d = y_pred[c] - y_true[c];
                acc += d * d;
                if let Some(g) = grad.as_deref_mut() {
                    g[c] = 2.0 * d * inv;
                }
            }
            *v = acc / cols as f32;
        }
        Ok(())
    }
}

impl<const K: usize> Loss<K> for MeanSquaredError {
    type Target = Dense<K>;
}
