//! `keras.losses.Poisson`.

use super::elementwise::{per_element, Aggregate};
use super::{Loss, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Poisson loss over the last axis: `mean(y_pred - y_true * ln(y_pred + 1e-7))`.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, Poisson};
/// let loss = Poisson::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[1.0], &[1.0], &[1, 1], None, false, &mut scratch).unwrap();
/// assert!((out.value - 1.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Poisson {
    reduction: Reduction,
}

impl Poisson {
    /// The reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

impl LossFn for Poisson {
    fn name(&self) -> &str {
        "poisson"
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
                let shifted = p + EPSILON;
                (p - t * shifted.ln(), 1.0 - t / shifted)
            },
        )
    }
}

impl<const K: usize> Loss<K> for Poisson {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_prediction_costs_the_log_of_epsilon() {
        let mut v = [0.0];
        let mut g = [0.0];
        Poisson::default()
            .per_sample(&[2.0], &[0.0], 1, &mut v, Some(&mut g))
            .unwrap();
        assert!((v[0] + 2.0 * 1e-7f32.ln()).abs() < 1e-5);
        assert!((g[0] - (1.0 - 2.0 / 1e-7)).abs() < 1.0);
    }
}
