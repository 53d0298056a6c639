//! `keras.losses.CategoricalCrossentropy`.

use super::numeric::{clip, clip_slope, log_softmax, smooth_categorical};
use super::row_wise::per_row;
use super::setters::loss_setters;
use super::{smoothed_device_labels, DeviceLoss, Loss, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Crossentropy between one-hot (or soft) labels and predicted probabilities or logits, summed
/// over the last axis.
///
/// Labels are first smoothed: `t = t * (1 - s) + s / K`. On probabilities Keras renormalises
/// each row to sum to 1, clips to `[1e-7, 1 - 1e-7]` in `f32` and computes `-sum(t ln p)`; the
/// gradient goes through the renormalisation and is 0 for clipped entries. With
/// `from_logits`, `-sum(t * log_softmax(x))`, whose gradient is `softmax(x) * sum(t) - t`.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, CategoricalCrossentropy, LossScratch};
/// let cce = CategoricalCrossentropy::default();
/// let mut scratch = LossScratch::default();
/// let y_true = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
/// let y_pred = [0.05, 0.95, 0.0, 0.1, 0.8, 0.1];
/// let out = compute_loss(&cce, &y_true, &y_pred, &[2, 3], None, false, &mut scratch).unwrap();
/// assert!((out.value - 1.177).abs() < 1e-3); // Keras's docstring value
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CategoricalCrossentropy {
    from_logits: bool,
    label_smoothing: f32,
    reduction: Reduction,
}

impl CategoricalCrossentropy {
    loss_setters!(from_logits, categorical_label_smoothing, reduction);
}

/// The gradient of `f(p / sum(p))` with respect to `p`, given `a = d f / d q` at
/// `q = p / sum(p)`: `(a_j - sum_i a_i q_i) / sum(p)`, written over `a`.
pub(crate) fn renormalise_backward(q: &[f32], sum: f32, a: &mut [f32]) {
    let dot: f32 = a.iter().zip(q).map(|(x, y)| x * y).sum();
    for x in a.iter_mut() {
        *x = (*x - dot) / sum;
    }
}

impl LossFn for CategoricalCrossentropy {
    fn keras_config(&self) -> Option<serde_json::Value> {
        if self.reduction != crate::losses::Reduction::default() {
            return None;
        }
        Some(super::keras_config::crossentropy(
            "CategoricalCrossentropy",
            self.name(),
            self.from_logits,
            Some(self.label_smoothing),
        ))
    }

    fn name(&self) -> &str {
        "categorical_crossentropy"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::SoftmaxCrossentropy`] from logits, else
    /// [`DeviceLoss::CategoricalCrossentropy`], on the smoothed labels.
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        let s = self.label_smoothing;
        smoothed_device_labels(y_true, rows, cols, labels, |t| {
            smooth_categorical(t, s, cols)
        })?;
        Ok(Some(match self.from_logits {
            true => DeviceLoss::SoftmaxCrossentropy,
            false => DeviceLoss::CategoricalCrossentropy,
        }))
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()> {
        let mut t = vec![0.0f32; cols];
        let mut work = vec![0.0f32; cols];
        per_row(y_true, y_pred, cols, values, grad, |labels, row, g| {
            for (ti, &yi) in t.iter_mut().zip(labels) {
                *ti = smooth_categorical(yi, self.label_smoothing, cols);
            }
            if self.from_logits {
                log_softmax(row, &mut work);
                if let Some(g) = g {
                    let t_sum: f32 = t.iter().sum();
                    for ((gi, &lp), &ti) in g.iter_mut().zip(&work).zip(&t) {
                        *gi = lp.exp() * t_sum - ti;
                    }
                }
                -t.iter().zip(&work).map(|(a, b)| a * b).sum::<f32>()
            } else {
                let sum: f32 = row.iter().sum();
                for (q, &p) in work.iter_mut().zip(row) {
                    *q = p / sum;
                }
                if let Some(g) = g {
                    for ((gi, &q), &ti) in g.iter_mut().zip(&work).zip(&t) {
                        let qc = clip(q, EPSILON, 1.0 - EPSILON);
                        *gi = -ti / qc * clip_slope(q, EPSILON, 1.0 - EPSILON);
                    }
                    renormalise_backward(&work, sum, g);
                }
                -t.iter()
                    .zip(&work)
                    .map(|(ti, &q)| ti * clip(q, EPSILON, 1.0 - EPSILON).ln())
                    .sum::<f32>()
            }
        })
    }
}

impl<const K: usize> Loss<K> for CategoricalCrossentropy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unnormalised_rows_are_renormalised_first() {
        let cce = CategoricalCrossentropy::default();
        let mut v = [0.0];
        cce.per_sample(&[1.0, 0.0], &[2.0, 2.0], 2, &mut v, None)
            .unwrap();
        assert!((v[0] - std::f32::consts::LN_2).abs() < 1e-6);
    }

    #[test]
    fn the_logit_gradient_is_softmax_minus_labels() {
        let cce = CategoricalCrossentropy::default().with_from_logits(true);
        let (mut v, mut g) = ([0.0], [0.0; 2]);
        cce.per_sample(&[0.0, 1.0], &[0.0, 0.0], 2, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(g, [0.5, -0.5]);
    }

    #[test]
    fn smoothing_spreads_mass_over_the_classes() {
        let cce = CategoricalCrossentropy::default()
            .with_label_smoothing(0.3)
            .unwrap();
        let mut v = [0.0];
        cce.per_sample(&[1.0, 0.0, 0.0], &[1.0, 1.0, 1.0], 3, &mut v, None)
            .unwrap();
        assert!((v[0] - 3.0f32.ln()).abs() < 1e-5);
        assert!(CategoricalCrossentropy::default()
            .with_label_smoothing(1.01)
            .is_err());
    }
}
