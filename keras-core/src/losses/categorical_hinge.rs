//! `keras.losses.CategoricalHinge`.

use super::numeric::{maximum, row_max};
use super::row_wise::per_row;
use super::setters::loss_setters;
use super::{dense_device_form, DeviceLoss, Loss, LossFn, Reduction};
use crate::{target::Dense, Result};

/// Categorical hinge loss per row: `max(neg - pos + 1, 0)` with `pos = sum(t * p)` and
/// `neg = max((1 - t) * p)`.
///
/// Where several entries share the maximum, the gradient of `neg` is split evenly between
/// them, as JAX's `max` does.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, CategoricalHinge, LossScratch};
/// let loss = CategoricalHinge::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[0.0, 1.0], &[0.6, 0.4], &[1, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value - 1.2).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CategoricalHinge {
    reduction: Reduction,
}

impl CategoricalHinge {
    loss_setters!(reduction);
}

impl LossFn for CategoricalHinge {
    fn name(&self) -> &str {
        "categorical_hinge"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::CategoricalHinge`].
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        dense_device_form(DeviceLoss::CategoricalHinge, y_true, rows, cols, labels)
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()> {
        let mut negs = vec![0.0f32; cols];
        per_row(y_true, y_pred, cols, values, grad, |t, p, g| {
            let pos: f32 = t.iter().zip(p).map(|(a, b)| a * b).sum();
            for ((n, &ti), &pi) in negs.iter_mut().zip(t).zip(p) {
                *n = (1.0 - ti) * pi;
            }
            let neg = row_max(&negs);
            let margin = neg - pos + 1.0;
            if let Some(g) = g {
                if margin > 0.0 {
                    let ties = negs.iter().filter(|&&n| n == neg).count() as f32;
                    for ((gi, &n), &ti) in g.iter_mut().zip(&negs).zip(t) {
                        let d_neg = if n == neg { (1.0 - ti) / ties } else { 0.0 };
                        *gi = d_neg - ti;
                    }
                } else {
                    g.fill(0.0);
                }
            }
            maximum(margin, 0.0)
        })
    }
}

impl<const K: usize> Loss<K> for CategoricalHinge {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_confident_right_answer_costs_nothing() {
        let mut v = [1.0];
        let mut g = [1.0; 3];
        CategoricalHinge::default()
            .per_sample(&[0.0, 1.0, 0.0], &[0.0, 2.0, 0.5], 3, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v, [0.0]);
        assert_eq!(g, [0.0; 3]);
    }

    #[test]
    fn the_gradient_pushes_the_strongest_wrong_class_down() {
        let mut v = [0.0];
        let mut g = [0.0; 3];
        CategoricalHinge::default()
            .per_sample(&[0.0, 1.0, 0.0], &[0.1, 0.3, 0.6], 3, &mut v, Some(&mut g))
            .unwrap();
        assert!((v[0] - 1.3).abs() < 1e-6);
        assert_eq!(g, [0.0, -1.0, 1.0]);
    }
}
