//! `keras.losses.SquaredHinge`.

use super::elementwise::elementwise_loss;
use super::hinge::{hinge_label, labels_are_binary};
use super::numeric::maximum;

elementwise_loss!(
    /// Squared hinge loss averaged over the last axis: `mean(max(1 - t * p, 0)^2)`.
    ///
    /// Labels are expected in `{-1, 1}`; when every label of the call is 0 or 1 they are mapped to
    /// `2t - 1`, as in [`Hinge`](super::Hinge).
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, LossScratch, SquaredHinge};
    /// let loss = SquaredHinge::default();
    /// let mut scratch = LossScratch::default();
    /// let out = compute_loss(&loss, &[-1.0, 1.0], &[0.5, 0.5], &[1, 2], None, false, &mut scratch).unwrap();
    /// assert_eq!(out.value, (2.25 + 0.25) / 2.0);
    /// ```
    SquaredHinge,
    "squared_hinge",
    Mean,
    per_call binary = labels_are_binary,
    device crate::losses::DeviceLoss::Hinge { squared: true },
    |t, p| {
        let t = hinge_label(t, binary);
        let m = maximum(1.0 - t * p, 0.0);
        (m * m, -2.0 * m * t)
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn the_gradient_vanishes_beyond_the_margin() {
        let mut v = [0.0];
        let mut g = [0.0; 2];
        SquaredHinge::default()
            .per_sample(&[1.0, -1.0], &[2.0, 0.5], 2, &mut v, Some(&mut g))
            .unwrap();
        assert_eq!(v, [2.25 / 2.0]);
        assert_eq!(g, [0.0, 1.5]);
    }
}
