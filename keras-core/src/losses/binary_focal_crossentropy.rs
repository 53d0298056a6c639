//! `keras.losses.BinaryFocalCrossentropy`.

use super::binary_crossentropy::bce_prob;
use super::elementwise::{per_element, Aggregate};
use super::numeric::{sigmoid, smooth_binary};
use super::setters::loss_setters;
use super::validate::unit_interval;
use super::{smoothed_device_labels, DeviceLoss, Loss, LossFn, Reduction};
use crate::{target::Dense, Result};

/// Binary focal crossentropy (Lin et al., 2018), averaged over the last axis.
///
/// As Keras: labels smoothed as in [`BinaryCrossentropy`](super::BinaryCrossentropy);
/// `p = sigmoid(x)` with `from_logits`; `bce` is the clipped probability crossentropy;
/// `p_t = t p + (1 - t)(1 - p)` (unclipped `p`); the loss is `(1 - p_t)^gamma * bce`, times
/// `t * alpha + (1 - t)(1 - alpha)` when `apply_class_balancing`.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, BinaryFocalCrossentropy, LossScratch};
/// let loss = BinaryFocalCrossentropy::default().with_gamma(0.0).unwrap();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[1.0], &[0.5], &[1, 1], None, false, &mut scratch).unwrap();
/// assert!((out.value - std::f32::consts::LN_2).abs() < 1e-6); // gamma 0: plain crossentropy
/// assert!(BinaryFocalCrossentropy::default().with_alpha(1.5).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct BinaryFocalCrossentropy {
    apply_class_balancing: bool,
    alpha: f32,
    gamma: f32,
    from_logits: bool,
    label_smoothing: f32,
    reduction: Reduction,
}

impl Default for BinaryFocalCrossentropy {
    fn default() -> Self {
        Self {
            apply_class_balancing: false,
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            reduction: Reduction::default(),
        }
    }
}

impl BinaryFocalCrossentropy {
    /// Whether to weight class 1 by `alpha` and class 0 by `1 - alpha`. Defaults to `false`.
    pub fn with_apply_class_balancing(mut self, apply: bool) -> Self {
        self.apply_class_balancing = apply;
        self
    }

    /// The class-1 weight, in `[0, 1]` (else [`Error::InvalidArgument`](crate::Error)); used
    /// with `apply_class_balancing`. Defaults to `0.25`.
    pub fn with_alpha(mut self, alpha: f32) -> Result<Self> {
        self.alpha = unit_interval("alpha", alpha)?;
        Ok(self)
    }

    loss_setters!(gamma, from_logits, binary_label_smoothing, reduction);

    /// One element's loss and its derivative with respect to `y_pred` (a logit or a probability).
    fn element(&self, t: f32, y: f32) -> (f32, f32) {
        let t = smooth_binary(t, self.label_smoothing);
        let p = if self.from_logits { sigmoid(y) } else { y };
        let (bce, d_bce) = bce_prob(t, p);
        let p_t = t * p + (1.0 - t) * (1.0 - p);
        let base = 1.0 - p_t;
        let focal = base.powf(self.gamma);
        // d(1 - p_t)/dp = 1 - 2t; d base^gamma = gamma * base^(gamma - 1), 0 for gamma = 0.
        let d_focal = if self.gamma == 0.0 {
            0.0
        } else {
            self.gamma * base.powf(self.gamma - 1.0) * (1.0 - 2.0 * t)
        };
        let mut value = focal * bce;
        let mut slope = d_focal * bce + focal * d_bce;
        if self.apply_class_balancing {
            let weight = t * self.alpha + (1.0 - t) * (1.0 - self.alpha);
            value *= weight;
            slope *= weight;
        }
        if self.from_logits {
            slope *= p * (1.0 - p);
        }
        (value, slope)
    }
}

impl LossFn for BinaryFocalCrossentropy {
    fn name(&self) -> &str {
        "binary_focal_crossentropy"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::BinaryFocalCrossentropy`] on the smoothed labels.
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        let s = self.label_smoothing;
        smoothed_device_labels(y_true, rows, cols, labels, |t| smooth_binary(t, s))?;
        Ok(Some(DeviceLoss::BinaryFocalCrossentropy {
            from_logits: self.from_logits,
            gamma: self.gamma,
            alpha: self.apply_class_balancing.then_some(self.alpha),
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
        per_element(
            y_true,
            y_pred,
            cols,
            Aggregate::Mean,
            values,
            grad,
            |t, y| self.element(t, y),
        )
    }
}

impl<const K: usize> Loss<K> for BinaryFocalCrossentropy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn keras_docstring_example_with_logits_matches() {
        // keras.losses.BinaryFocalCrossentropy(gamma=2, from_logits=True) on this input: 0.691.
        let loss = BinaryFocalCrossentropy::default().with_from_logits(true);
        let mut v = [0.0];
        loss.per_sample(
            &[0.0, 1.0, 0.0, 0.0],
            &[-18.6, 0.51, 2.94, -12.8],
            4,
            &mut v,
            None,
        )
        .unwrap();
        assert!((v[0] - 0.691).abs() < 1e-3);
        let balanced = loss.with_apply_class_balancing(true);
        balanced
            .per_sample(
                &[0.0, 1.0, 0.0, 0.0],
                &[-18.6, 0.51, 2.94, -12.8],
                4,
                &mut v,
                None,
            )
            .unwrap();
        assert!((v[0] - 0.51).abs() < 1e-2);
    }

    #[test]
    fn negative_gamma_and_alpha_outside_the_unit_interval_are_rejected() {
        let base = BinaryFocalCrossentropy::default();
        assert!(matches!(
            base.with_gamma(-1.0),
            Err(Error::InvalidArgument { name: "gamma", .. })
        ));
        assert!(matches!(
            base.with_alpha(-0.01),
            Err(Error::InvalidArgument { name: "alpha", .. })
        ));
        assert!(matches!(
            base.with_label_smoothing(2.0),
            Err(Error::InvalidArgument {
                name: "label_smoothing",
                ..
            })
        ));
    }
}
