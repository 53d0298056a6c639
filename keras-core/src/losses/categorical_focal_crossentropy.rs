//! `keras.losses.CategoricalFocalCrossentropy`.

use super::categorical_crossentropy::renormalise_backward;
use super::numeric::{clip, clip_slope, smooth_categorical, softmax, softmax_backward};
use super::row_wise::per_row;
use super::setters::loss_setters;
use super::validate::unit_interval;
use super::{smoothed_device_labels, DeviceLoss, Loss, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Alpha-balanced focal crossentropy (Lin et al., 2018) for one-hot labels, summed over the
/// last axis.
///
/// As Keras: labels smoothed as in
/// [`CategoricalCrossentropy`](super::CategoricalCrossentropy); `softmax` when `from_logits`;
/// each row renormalised to sum to 1 and clipped to `[1e-7, 1 - 1e-7]`; then
/// `sum(alpha * (1 - p)^gamma * (-t ln p))`.
///
/// `alpha` is one scalar here; Keras also accepts a list with one weight per class.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, CategoricalFocalCrossentropy, LossScratch};
/// let loss = CategoricalFocalCrossentropy::default();
/// let mut scratch = LossScratch::default();
/// let y_true = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
/// let y_pred = [0.05, 0.95, 0.0, 0.1, 0.8, 0.1];
/// let out = compute_loss(&loss, &y_true, &y_pred, &[2, 3], None, false, &mut scratch).unwrap();
/// assert!((out.value - 0.23315276).abs() < 1e-5); // Keras's docstring value
/// assert!(CategoricalFocalCrossentropy::default().with_gamma(-2.0).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CategoricalFocalCrossentropy {
    alpha: f32,
    gamma: f32,
    from_logits: bool,
    label_smoothing: f32,
    reduction: Reduction,
}

impl Default for CategoricalFocalCrossentropy {
    fn default() -> Self {
        Self {
            alpha: 0.25,
            gamma: 2.0,
            from_logits: false,
            label_smoothing: 0.0,
            reduction: Reduction::default(),
        }
    }
}

impl CategoricalFocalCrossentropy {
    /// The class weight, in `[0, 1]` (else [`Error::InvalidArgument`](crate::Error)).
    /// Defaults to `0.25`.
    pub fn with_alpha(mut self, alpha: f32) -> Result<Self> {
        self.alpha = unit_interval("alpha", alpha)?;
        Ok(self)
    }

    loss_setters!(gamma, from_logits, categorical_label_smoothing, reduction);
}

impl LossFn for CategoricalFocalCrossentropy {
    fn name(&self) -> &str {
        "categorical_focal_crossentropy"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::CategoricalFocalCrossentropy`] on the smoothed labels.
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
        Ok(Some(DeviceLoss::CategoricalFocalCrossentropy {
            from_logits: self.from_logits,
            gamma: self.gamma,
            alpha: self.alpha,
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
        let (alpha, gamma) = (self.alpha, self.gamma);
        let mut probs = vec![0.0f32; cols];
        let mut out = vec![0.0f32; cols];
        per_row(y_true, y_pred, cols, values, grad, |labels, row, g| {
            if self.from_logits {
                softmax(row, &mut probs);
            } else {
                probs.copy_from_slice(row);
            }
            let sum: f32 = probs.iter().sum();
            for (o, &p) in out.iter_mut().zip(&probs) {
                *o = p / sum;
            }
            let mut acc = 0.0f32;
            let mut slopes = g;
            for (c, &o) in out.iter().enumerate() {
                let t = smooth_categorical(labels[c], self.label_smoothing, cols);
                let oc = clip(o, EPSILON, 1.0 - EPSILON);
                let cce = -t * oc.ln();
                let base = 1.0 - oc;
                let modulating = base.powf(gamma);
                acc += modulating * alpha * cce;
                if let Some(g) = slopes.as_deref_mut() {
                    let d_mod = if gamma == 0.0 {
                        0.0
                    } else {
                        -gamma * base.powf(gamma - 1.0)
                    };
                    let d = alpha * (d_mod * cce + modulating * (-t / oc));
                    g[c] = d * clip_slope(o, EPSILON, 1.0 - EPSILON);
                }
            }
            if let Some(g) = slopes {
                renormalise_backward(&out, sum, g);
                if self.from_logits {
                    softmax_backward(&probs, g);
                }
            }
            acc
        })
    }
}

impl<const K: usize> Loss<K> for CategoricalFocalCrossentropy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn keras_docstring_per_sample_values_match() {
        let loss = CategoricalFocalCrossentropy::default();
        let mut v = [0.0; 2];
        loss.per_sample(
            &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            &[0.05, 0.95, 0.0, 0.1, 0.8, 0.1],
            3,
            &mut v,
            None,
        )
        .unwrap();
        assert!((v[0] - 3.205_833e-5).abs() < 1e-8);
        assert!((v[1] - 4.6627346e-01).abs() < 1e-6);
    }

    #[test]
    fn out_of_range_parameters_are_rejected() {
        let base = CategoricalFocalCrossentropy::default();
        assert!(matches!(
            base.with_alpha(1.5),
            Err(Error::InvalidArgument { name: "alpha", .. })
        ));
        assert!(matches!(
            base.with_gamma(f32::NAN),
            Err(Error::InvalidArgument { name: "gamma", .. })
        ));
        assert!(base.with_label_smoothing(-1.0).is_err());
    }
}
