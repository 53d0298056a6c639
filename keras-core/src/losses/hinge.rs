//! `keras.losses.Hinge`.

use super::elementwise::elementwise_loss;
use super::numeric::maximum;

elementwise_loss!(
    /// Hinge loss averaged over the last axis: `mean(max(1 - t * p, 0))`.
    ///
    /// Labels are expected in `{-1, 1}`. As in Keras, when **every** label of the call is 0 or 1
    /// they are all mapped to `2t - 1` (a whole-batch decision).
    ///
    /// # Examples
    /// ```
    /// use keras_core::losses::{compute_loss, Hinge, LossScratch};
    /// let hinge = Hinge::default();
    /// let mut scratch = LossScratch::default();
    /// // Labels {0, 1} become {-1, 1}.
    /// let out = compute_loss(&hinge, &[0.0, 1.0], &[0.5, 0.5], &[1, 2], None, false, &mut scratch).unwrap();
    /// assert_eq!(out.value, (1.5 + 0.5) / 2.0);
    /// ```
    Hinge,
    "hinge",
    Mean,
    per_call binary = labels_are_binary,
    device crate::losses::DeviceLoss::Hinge { squared: false },
    |t, p| {
        let t = hinge_label(t, binary);
        let margin = 1.0 - t * p;
        (maximum(margin, 0.0), if margin > 0.0 { -t } else { 0.0 })
    }
);

/// Keras's `convert_binary_labels_to_hinge`: whether the labels of the whole call are all 0 or 1,
/// in which case each becomes `2t - 1`.
pub(crate) fn labels_are_binary(y_true: &[f32]) -> bool {
    y_true.iter().all(|&t| t == 0.0 || t == 1.0)
}

/// A label as the hinge losses see it.
pub(crate) fn hinge_label(t: f32, binary: bool) -> f32 {
    if binary {
        2.0 * t - 1.0
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::LossFn;

    #[test]
    fn labels_stay_as_they_are_unless_all_are_zero_or_one() {
        let mut v = [0.0; 2];
        // -1 is present, so the 0 label stays 0 (margin 1).
        Hinge::default()
            .per_sample(&[-1.0, 0.0], &[0.5, 3.0], 1, &mut v, None)
            .unwrap();
        assert_eq!(v, [1.5, 1.0]);
    }
}
