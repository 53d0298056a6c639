//! `keras.losses.LogCosh`.

use super::elementwise::{per_element, Aggregate};
use super::numeric::softplus;
use super::{Loss, LossFn, Reduction};
use crate::{target::Dense, Result};

/// Logarithm of the hyperbolic cosine of the error, averaged over the last axis.
///
/// Computed as Keras does, stable for large errors: `x + softplus(-2x) - ln 2` with
/// `x = y_pred - y_true`. Its derivative is `tanh(x)`.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LogCosh, LossScratch};
/// let loss = LogCosh::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[0.0, 0.0], &[1.0, 0.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value - 1.0f32.cosh().ln() / 2.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct LogCosh {
    reduction: Reduction,
}

impl LogCosh {
    /// The reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }
}

impl LossFn for LogCosh {
    fn name(&self) -> &str {
        "log_cosh"
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
        let ln2 = std::f32::consts::LN_2;
        per_element(
            y_true,
            y_pred,
            cols,
            Aggregate::Mean,
            values,
            grad,
            |t, p| {
                let x = p - t;
                (x + softplus(x * -2.0) - ln2, x.tanh())
            },
        )
    }
}

impl<const K: usize> Loss<K> for LogCosh {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_error_costs_its_size_minus_ln_2() {
        let mut v = [0.0];
        LogCosh::default()
            .per_sample(&[0.0], &[100.0], 1, &mut v, None)
            .unwrap();
        assert!((v[0] - (100.0 - std::f32::consts::LN_2)).abs() < 1e-4);
    }
}
