//! `keras.losses.MeanSquaredError`.

use super::elementwise::{per_element, Aggregate};
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
    /// The reduction. Defaults to `sum_over_batch_size`.
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
                (d * d, -2.0 * d)
            },
        )
    }
}

impl<const K: usize> Loss<K> for MeanSquaredError {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gradient_is_twice_the_error_over_the_width() {
        let mut v = [0.0];
        let mut g = [0.0; 2];
        MeanSquaredError::default()
            .per_sample(&[0.0, 1.0], &[1.0, 3.0], 2, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v, [2.5]);
        assert_eq!(g, [1.0, 2.0]);
    }

    #[test]
    fn it_takes_as_many_targets_as_outputs() {
        use crate::target::Target;
        let target: Dense<4> = <MeanSquaredError as Loss<4>>::Target::default();
        assert_eq!(target, Dense::<4>);
        assert_eq!(<Dense<4> as Target>::WIDTH, 4);
    }
}
