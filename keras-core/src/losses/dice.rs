//! `keras.losses.Dice`.

use super::row_wise::per_row;
use super::setters::loss_setters;
use super::{Loss, LossAxis, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Dice loss: `1 - 2 * sum(t * p) / (sum(t) + sum(p) + 1e-7)`.
///
/// The sums run over every axis by default ([`LossAxis::All`], Keras's `axis=None`): the whole
/// batch gives one value, which every reduction returns unchanged, and sample weights multiply
/// it (Keras broadcasts the scalar against them). With [`LossAxis::Last`] each row gives its
/// own value; for a `[B, K]` prediction that is Keras's per-sample `axis=(1, ...)`. Other axis
/// tuples are not supported.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, Dice, LossScratch};
/// // Keras's unit test: Dice()([[1, 2], [1, 2]], [[4, 1], [6, 1]]) == -0.55555546.
/// let dice = Dice::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&dice, &[1.0, 2.0, 1.0, 2.0], &[4.0, 1.0, 6.0, 1.0], &[2, 2], None, false, &mut scratch)
///     .unwrap();
/// assert!((out.value + 0.55555546).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Dice {
    axis: LossAxis,
    reduction: Reduction,
}

impl Default for Dice {
    fn default() -> Self {
        Self {
            axis: LossAxis::All,
            reduction: Reduction::default(),
        }
    }
}

impl Dice {
    loss_setters!(axis, reduction);
}

impl LossFn for Dice {
    fn name(&self) -> &str {
        "dice"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    fn axis(&self) -> LossAxis {
        self.axis
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()> {
        per_row(y_true, y_pred, cols, values, grad, |t, p, g| {
            let intersection: f32 = t.iter().zip(p).map(|(a, b)| a * b).sum();
            let sum_t: f32 = t.iter().sum();
            let sum_p: f32 = p.iter().sum();
            let denominator = sum_t + sum_p + EPSILON;
            let dice = 2.0 * intersection / denominator;
            if let Some(g) = g {
                // d dice / d p_j = (2 t_j - dice) / denominator.
                for (gi, &tj) in g.iter_mut().zip(t) {
                    *gi = -(2.0 * tj - dice) / denominator;
                }
            }
            1.0 - dice
        })
    }
}

impl<const K: usize> Loss<K> for Dice {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::{compute_loss, LossScratch, SampleWeight};

    // Keras's docstring example: y_true, y_pred of shape [2, 2, 2, 1].
    const T: [f32; 8] = [1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
    const P: [f32; 8] = [0.0, 1.0, 0.0, 1.0, 0.4, 0.0, 0.0, 0.9];

    #[test]
    fn keras_docstring_whole_batch_value_matches() {
        let mut s = LossScratch::default();
        let out =
            compute_loss(&Dice::default(), &T, &P, &[2, 2, 2, 1], None, false, &mut s).unwrap();
        assert!((out.value - 0.6164384).abs() < 1e-6);
        assert_eq!(s.values_shape(), &[] as &[usize]);
    }

    #[test]
    fn keras_docstring_per_sample_values_match() {
        let dice = Dice::default()
            .with_axis(LossAxis::Last)
            .with_reduction(Reduction::None);
        let mut s = LossScratch::default();
        compute_loss(&dice, &T, &P, &[2, 4], None, false, &mut s).unwrap();
        assert!((s.values()[0] - 0.5).abs() < 1e-6 && (s.values()[1] - 0.75757575).abs() < 1e-6);
    }

    #[test]
    fn sample_weights_multiply_the_whole_batch_value() {
        let dice = Dice::default().with_reduction(Reduction::Sum);
        let mut s = LossScratch::default();
        let w = SampleWeight {
            values: &[1.0, 3.0],
            shape: &[2],
        };
        let out = compute_loss(&dice, &T, &P, &[2, 4], Some(w), false, &mut s).unwrap();
        assert!((out.value - 4.0 * 0.6164384).abs() < 1e-5);
        assert_eq!(s.values().len(), 2);
    }
}
