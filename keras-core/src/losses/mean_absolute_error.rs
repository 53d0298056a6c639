//! `keras.losses.MeanAbsoluteError`.

use super::elementwise::{per_element, Aggregate};
use super::{Loss, LossFn, Reduction};
use crate::{target::Dense, Result};

/// Mean of absolute errors over the last axis: `mean(|y_true - y_pred|)`.
///
/// The gradient at `y_pred == y_true` is 0 (the sign of 0), as in JAX.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanAbsoluteError};
/// let mae = MeanAbsoluteError::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&mae, &[0.0, 1.0], &[1.0, -1.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert_eq!(out.value, 1.5);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanAbsoluteError {
    reduction: Reduction,
}

impl MeanAbsoluteError {
    /// The reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

/// `sign(x)` with `sign(0) = 0`, as `jnp.sign` (NaN stays NaN).
pub(crate) fn sign(x: f32) -> f32 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        x
    }
}

impl LossFn for MeanAbsoluteError {
    fn name(&self) -> &str {
        "mean_absolute_error"
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
                let d = t - p;
                (d.abs(), -sign(d))
            },
        )
    }
}

impl<const K: usize> Loss<K> for MeanAbsoluteError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_is_the_sign_of_the_error_over_the_width() {
        let mut v = [0.0];
        let mut g = [0.0; 3];
        MeanAbsoluteError::default()
            .per_sample(&[0.0, 1.0, 2.0], &[1.0, -1.0, 2.0], 3, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v, [1.0]);
        assert_eq!(g, [1.0 / 3.0, -1.0 / 3.0, 0.0]);
    }
}
