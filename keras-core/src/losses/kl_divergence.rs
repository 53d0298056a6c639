//! `keras.losses.KLDivergence`.

use super::elementwise::elementwise_loss;
use super::numeric::{clip, clip_slope};
use super::EPSILON;

elementwise_loss!(
    /// Kullback-Leibler divergence summed over the last axis: with `t, p` clipped to `[1e-7, 1]`,
    /// `sum(t * ln(t / p))`. The gradient is 0 where `p` is clipped.
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, KLDivergence, LossScratch};
    /// let kld = KLDivergence::default();
    /// let mut scratch = LossScratch::default();
    /// let out = compute_loss(&kld, &[0.5, 0.5], &[0.5, 0.5], &[1, 2], None, false, &mut scratch).unwrap();
    /// assert_eq!(out.value, 0.0);
    /// ```
    KLDivergence,
    "kl_divergence",
    Sum,
    device crate::losses::DeviceLoss::KlDivergence,
    |t, p| {
        let tc = clip(t, EPSILON, 1.0);
        let pc = clip(p, EPSILON, 1.0);
        (tc * (tc / pc).ln(), -tc / pc * clip_slope(p, EPSILON, 1.0))
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn zero_probabilities_are_clipped_to_epsilon() {
        let mut v = [0.0];
        let mut g = [1.0; 2];
        KLDivergence::default()
            .per_sample(&[1.0, 0.0], &[0.0, 1.0], 2, &mut v, Some(&mut g))
            .unwrap();
        let expected = (1.0f32 / 1e-7).ln() + 1e-7 * 1e-7f32.ln();
        assert!((v[0] - expected).abs() < 1e-5);
        assert_eq!(g, [0.0, 0.0]);
    }
}
