//! `keras.losses.Tversky`.

use super::row_wise::per_row;
use super::setters::loss_setters;
use super::validate::non_negative;
use super::{Loss, LossAxis, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Tversky loss (Salehi et al., 2017): `1 - I / (I + alpha * fp + beta * fn + 1e-7)` with, as
/// Keras names them, `I = sum(t * p)`, `fp = sum((1 - p) * t)` and `fn = sum(p * (1 - t))`.
/// With `alpha = beta = 0.5` it equals [`Dice`](super::Dice).
///
/// The sums run over every axis by default ([`LossAxis::All`], Keras's `axis=None`); see
/// [`Dice`](super::Dice) for what that means for reductions and sample weights.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, Tversky};
/// // Keras's unit test: Tversky(alpha=0.2, beta=0.8) on these inputs gives -0.29629636.
/// let loss = Tversky::new(0.2, 0.8).unwrap();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[1.0, 2.0, 1.0, 2.0], &[4.0, 1.0, 6.0, 1.0], &[2, 2], None, false, &mut scratch)
///     .unwrap();
/// assert!((out.value + 0.29629636).abs() < 1e-6);
/// assert!(Tversky::new(-0.1, 0.5).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Tversky {
    alpha: f32,
    beta: f32,
    axis: LossAxis,
    reduction: Reduction,
}

impl Default for Tversky {
    fn default() -> Self {
        Self {
            alpha: 0.5,
            beta: 0.5,
            axis: LossAxis::All,
            reduction: Reduction::default(),
        }
    }
}

impl Tversky {
    /// A Tversky loss weighting Keras's `fp` term by `alpha` and `fn` by `beta`; both must be
    /// finite and `>= 0` (else [`Error::InvalidArgument`](crate::Error)). Keras's defaults are
    /// `0.5` and `0.5` ([`Tversky::default`]).
    pub fn new(alpha: f32, beta: f32) -> Result<Self> {
        Ok(Self {
            alpha: non_negative("alpha", alpha)?,
            beta: non_negative("beta", beta)?,
            ..Self::default()
        })
    }

    loss_setters!(axis, reduction);
}

impl LossFn for Tversky {
    fn name(&self) -> &str {
        "tversky"
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
        let (alpha, beta) = (self.alpha, self.beta);
        per_row(y_true, y_pred, cols, values, grad, |t, p, g| {
            let intersection: f32 = t.iter().zip(p).map(|(a, b)| a * b).sum();
            let fp: f32 = t.iter().zip(p).map(|(a, b)| (1.0 - b) * a).sum();
            let fn_: f32 = t.iter().zip(p).map(|(a, b)| b * (1.0 - a)).sum();
            let denominator = intersection + fp * alpha + fn_ * beta + EPSILON;
            let index = intersection / denominator;
            if let Some(g) = g {
                for (gi, &tj) in g.iter_mut().zip(t) {
                    let d_den = tj - alpha * tj + beta * (1.0 - tj);
                    *gi = -(tj - index * d_den) / denominator;
                }
            }
            1.0 - index
        })
    }
}

impl<const K: usize> Loss<K> for Tversky {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::{compute_loss, LossScratch};
    use crate::Error;

    #[test]
    fn keras_unit_test_values_match() {
        let t = [
            1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0,
        ];
        let p = [
            0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0,
        ];
        let mut s = LossScratch::default();
        let out = compute_loss(&Tversky::default(), &t, &p, &[4, 4], None, false, &mut s).unwrap();
        assert!((out.value - 0.77777773).abs() < 1e-6);
        let out = compute_loss(
            &Tversky::new(0.2, 0.8).unwrap(),
            &t,
            &p,
            &[4, 4],
            None,
            false,
            &mut s,
        )
        .unwrap();
        assert!((out.value - 0.7916667).abs() < 1e-6);
    }

    #[test]
    fn keras_per_sample_values_match() {
        let t = [1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let p = [0.0, 1.0, 0.0, 1.0, 0.4, 0.0, 0.0, 0.9];
        let loss = Tversky::new(0.2, 0.8)
            .unwrap()
            .with_axis(LossAxis::Last)
            .with_reduction(Reduction::None);
        let mut s = LossScratch::default();
        compute_loss(&loss, &t, &p, &[2, 4], None, false, &mut s).unwrap();
        assert!((s.values()[0] - 0.5).abs() < 1e-6 && (s.values()[1] - 0.7222222).abs() < 1e-6);
    }

    #[test]
    fn negative_coefficients_are_rejected() {
        assert!(matches!(
            Tversky::new(0.5, -1.0),
            Err(Error::InvalidArgument { name: "beta", .. })
        ));
        assert!(matches!(
            Tversky::new(f32::NAN, 0.5),
            Err(Error::InvalidArgument { name: "alpha", .. })
        ));
    }
}
