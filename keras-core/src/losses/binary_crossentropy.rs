//! `keras.losses.BinaryCrossentropy`.

use super::elementwise::{per_element, Aggregate};
use super::numeric::{clip, clip_slope, log_sigmoid, sigmoid, smooth_binary};
use super::setters::loss_setters;
use super::{smoothed_device_labels, DeviceLoss, Loss, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Binary crossentropy per element, averaged over the last axis.
///
/// Labels are first smoothed towards 0.5: `t = t * (1 - s) + 0.5 * s`. On probabilities Keras
/// clips `p` to `[1e-7, 1 - 1e-7]` in `f32` and computes `-(t ln p + (1 - t) ln(1 - p))`; the
/// gradient is 0 where the clip is active. With `from_logits`,
/// `-t * log_sigmoid(x) - (1 - t) * log_sigmoid(-x)`, whose gradient is `sigmoid(x) - t`.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, BinaryCrossentropy, LossScratch};
/// let bce = BinaryCrossentropy::default().with_from_logits(true);
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&bce, &[1.0, 0.0], &[0.0, 0.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value - std::f32::consts::LN_2).abs() < 1e-6);
/// assert!(BinaryCrossentropy::default().with_label_smoothing(1.5).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct BinaryCrossentropy {
    from_logits: bool,
    label_smoothing: f32,
    reduction: Reduction,
}

impl BinaryCrossentropy {
    loss_setters!(from_logits, binary_label_smoothing, reduction);
}

/// Keras's probability-space binary crossentropy of one element and its derivative in `p`.
pub(crate) fn bce_prob(t: f32, p: f32) -> (f32, f32) {
    let pc = clip(p, EPSILON, 1.0 - EPSILON);
    let value = -(t * pc.ln() + (1.0 - t) * (1.0 - pc).ln());
    let slope = clip_slope(p, EPSILON, 1.0 - EPSILON) * (-(t / pc) + (1.0 - t) / (1.0 - pc));
    (value, slope)
}

impl LossFn for BinaryCrossentropy {
    fn keras_config(&self) -> Option<serde_json::Value> {
        if self.reduction != crate::losses::Reduction::default() {
            return None;
        }
        Some(super::keras_config::crossentropy(
            "BinaryCrossentropy",
            self.name(),
            self.from_logits,
            Some(self.label_smoothing),
        ))
    }

    fn name(&self) -> &str {
        "binary_crossentropy"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::SigmoidCrossentropy`] from logits, else [`DeviceLoss::BinaryCrossentropy`],
    /// on the smoothed labels.
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        let s = self.label_smoothing;
        smoothed_device_labels(y_true, rows, cols, labels, |t| smooth_binary(t, s))?;
        Ok(Some(match self.from_logits {
            true => DeviceLoss::SigmoidCrossentropy,
            false => DeviceLoss::BinaryCrossentropy,
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
        let s = self.label_smoothing;
        if self.from_logits {
            per_element(
                y_true,
                y_pred,
                cols,
                Aggregate::Mean,
                values,
                grad,
                |t, x| {
                    let t = smooth_binary(t, s);
                    let value = -t * log_sigmoid(x) - (1.0 - t) * log_sigmoid(-x);
                    (value, sigmoid(x) - t)
                },
            )
        } else {
            per_element(
                y_true,
                y_pred,
                cols,
                Aggregate::Mean,
                values,
                grad,
                |t, p| bce_prob(smooth_binary(t, s), p),
            )
        }
    }
}

impl<const K: usize> Loss<K> for BinaryCrossentropy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn a_certain_wrong_probability_costs_the_f32_clip() {
        let mut v = [0.0];
        let mut g = [1.0];
        BinaryCrossentropy::default()
            .per_sample(&[0.0], &[1.0], 1, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v[0], -(1.192_092_9e-7f32).ln());
        assert_eq!(g, [0.0]);
    }

    #[test]
    fn smoothing_moves_labels_towards_one_half() {
        let bce = BinaryCrossentropy::default()
            .with_from_logits(true)
            .with_label_smoothing(1.0)
            .unwrap();
        let mut v = [0.0];
        let mut g = [0.0];
        bce.per_sample(&[1.0], &[0.0], 1, &mut v, Some(&mut g))
            .unwrap();
        assert!((v[0] - std::f32::consts::LN_2).abs() < 1e-6);
        assert_eq!(g, [0.0]);
    }

    #[test]
    fn smoothing_outside_the_unit_interval_is_rejected() {
        let err = BinaryCrossentropy::default()
            .with_label_smoothing(-0.1)
            .unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                name: "label_smoothing",
                ..
            }
        ));
    }
}
