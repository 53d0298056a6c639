//! `keras.losses.Huber`.

use super::elementwise::{per_element, Aggregate};
use super::numeric::sign;
use super::setters::loss_setters;
use super::validate::non_negative;
use super::{dense_device_form, DeviceLoss, Loss, LossFn, Reduction};
use crate::{target::Dense, Result};

/// Huber loss over the last axis: with `e = y_pred - y_true`, `0.5 * e^2` where
/// `|e| <= delta`, else `delta * |e| - 0.5 * delta^2`; averaged over the last axis.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, Huber, LossScratch};
/// let huber = Huber::new(1.0).unwrap();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&huber, &[0.0, 0.0], &[0.5, 3.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert_eq!(out.value, (0.125 + 2.5) / 2.0);
/// assert!(Huber::new(-1.0).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Huber {
    delta: f32,
    reduction: Reduction,
}

impl Default for Huber {
    fn default() -> Self {
        Self {
            delta: 1.0,
            reduction: Reduction::default(),
        }
    }
}

impl Huber {
    /// A Huber loss switching from quadratic to linear at `delta`, which must be finite and
    /// `>= 0` (else [`Error::InvalidArgument`](crate::Error)).
    pub fn new(delta: f32) -> Result<Self> {
        Ok(Self {
            delta: non_negative("delta", delta)?,
            ..Self::default()
        })
    }

    loss_setters!(reduction);

    /// The point where the loss turns linear. Defaults to `1.0`.
    pub fn delta(&self) -> f32 {
        self.delta
    }
}

impl LossFn for Huber {
    fn name(&self) -> &str {
        "huber_loss"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::Huber`].
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        dense_device_form(
            DeviceLoss::Huber { delta: self.delta },
            y_true,
            rows,
            cols,
            labels,
        )
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()> {
        let delta = self.delta;
        let half_delta_sq = 0.5 * (delta * delta);
        per_element(
            y_true,
            y_pred,
            cols,
            Aggregate::Mean,
            values,
            grad,
            |t, p| {
                let e = p - t;
                let abs = e.abs();
                if abs <= delta {
                    (0.5 * (e * e), e)
                } else {
                    (delta * abs - half_delta_sq, delta * sign(e))
                }
            },
        )
    }
}

impl<const K: usize> Loss<K> for Huber {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn the_gradient_is_the_error_clipped_to_delta() {
        let mut v = [0.0];
        let mut g = [0.0; 2];
        Huber::new(2.0)
            .unwrap()
            .per_sample(&[0.0, 0.0], &[1.0, -5.0], 2, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v, [(0.5 + (10.0 - 2.0)) / 2.0]);
        assert_eq!(g, [0.5, -1.0]);
    }

    #[test]
    fn a_negative_or_nan_delta_is_rejected() {
        assert!(matches!(
            Huber::new(-0.5),
            Err(Error::InvalidArgument { name: "delta", .. })
        ));
        assert!(Huber::new(f32::NAN).is_err());
    }
}
