//! `keras.metrics.BinaryCrossentropy`.

use super::crossentropy_options::crossentropy_setters;
use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn, RowMetric};
use crate::{target::Dense, Result};

/// Mean over samples of the binary crossentropy, itself the mean over each row.
///
/// Labels are first smoothed to `t (1 - s) + 0.5 s`. On probabilities, `p` is clipped to
/// `[1e-7, 1 - 1e-7]` in `f32` and the value is `-(t ln p + (1 - t) ln(1 - p))`; with
/// `from_logits`, `-t log_sigmoid(x) - (1 - t) log_sigmoid(-x)` (Keras's JAX backend).
///
/// # Examples
/// ```
/// use keras_core::metrics::{BinaryCrossentropy, MetricFn};
/// let mut bce = BinaryCrossentropy::default();
/// bce.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
/// assert!((bce.result() - 0.81492424).abs() < 1e-6);
/// assert!(BinaryCrossentropy::default().with_label_smoothing(1.5).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct BinaryCrossentropy {
    from_logits: bool,
    label_smoothing: f32,
    state: MeanState,
}

impl BinaryCrossentropy {
    crossentropy_setters!(from_logits, label_smoothing);

    /// The row function (shared with the device kernels).
    fn form(&self) -> RowMetric {
        RowMetric::BinaryCrossentropy {
            from_logits: self.from_logits,
            label_smoothing: self.label_smoothing,
        }
    }
}

/// One element's binary crossentropy, after smoothing.
impl MetricFn for BinaryCrossentropy {
    fn name(&self) -> &str {
        "binary_crossentropy"
    }

    fn direction(&self) -> Direction {
        Direction::Down
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let form = self.form();
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| form.row(t, p))
    }

    fn row_form(&self) -> Option<RowMetric> {
        Some(self.form())
    }

    mean_state_methods!();

    fn keras_config(&self) -> Option<serde_json::Value> {
        let args = serde_json::json!({
            "from_logits": self.from_logits,
            "label_smoothing": super::keras_config::float(self.label_smoothing),
        });
        Some(super::keras_config::object(
            "BinaryCrossentropy",
            self.name(),
            args,
        ))
    }
}

impl<const K: usize> Metric<K> for BinaryCrossentropy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::super::row_math::EPSILON;
    use super::*;
    use crate::Error;

    #[test]
    fn probabilities_of_exactly_one_are_clipped_in_f32() {
        let mut bce = BinaryCrossentropy::default();
        bce.update_state(&[0.0], &[1.0], 1, None).unwrap();
        let expected = -(1.0f32 - (1.0 - EPSILON)).ln();
        assert_eq!(bce.result(), expected);
    }

    #[test]
    fn logits_of_zero_give_ln_two() {
        let mut bce = BinaryCrossentropy::default().with_from_logits(true);
        bce.update_state(&[1.0], &[0.0], 1, None).unwrap();
        assert!((bce.result() - std::f32::consts::LN_2).abs() < 1e-7);
    }

    #[test]
    fn label_smoothing_outside_the_unit_interval_is_rejected() {
        for s in [-0.1, 1.1, f32::NAN] {
            let err = BinaryCrossentropy::default().with_label_smoothing(s);
            assert!(matches!(
                err,
                Err(Error::InvalidArgument {
                    name: "label_smoothing",
                    ..
                })
            ));
        }
    }
}
