//! `keras.metrics.BinaryAccuracy`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn, RowMetric};
use crate::{target::Dense, Error, Result};

/// How often `y_pred > threshold` (as 0/1) equals the binary label, averaged over each row and
/// then over samples. The comparison is strict: a prediction equal to the threshold counts as 0.
///
/// # Examples
/// ```
/// use keras_core::metrics::{BinaryAccuracy, MetricFn};
/// let mut acc = BinaryAccuracy::default();
/// acc.update_state(&[1.0, 1.0, 0.0, 0.0], &[0.98, 1.0, 0.0, 0.6], 1, None).unwrap();
/// assert_eq!(acc.result(), 0.75);
/// assert!(BinaryAccuracy::default().with_threshold(1.0).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct BinaryAccuracy {
    threshold: f32,
    state: MeanState,
}

impl Default for BinaryAccuracy {
    fn default() -> Self {
        Self {
            threshold: 0.5,
            state: MeanState::default(),
        }
    }
}

impl BinaryAccuracy {
    /// The decision threshold, in the open interval `(0, 1)` (Keras rejects the ends). Defaults
    /// to `0.5`.
    pub fn with_threshold(mut self, threshold: f32) -> Result<Self> {
        if !(threshold > 0.0 && threshold < 1.0) {
            return Err(Error::invalid(
                "threshold",
                format!("expected a value in the open interval (0, 1), got {threshold}"),
            ));
        }
        self.threshold = threshold;
        Ok(self)
    }

    /// The decision threshold.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    fn form(&self) -> RowMetric {
        RowMetric::ThresholdedMatches {
            threshold: self.threshold,
        }
    }
}

impl MetricFn for BinaryAccuracy {
    fn name(&self) -> &str {
        "binary_accuracy"
    }

    fn direction(&self) -> Direction {
        Direction::Up
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
        let args = serde_json::json!({"threshold": super::keras_config::float(self.threshold)});
        Some(super::keras_config::object(
            "BinaryAccuracy",
            self.name(),
            args,
        ))
    }
}

impl<const K: usize> Metric<K> for BinaryAccuracy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prediction_on_the_threshold_counts_as_negative() {
        let mut acc = BinaryAccuracy::default();
        acc.update_state(&[0.0, 1.0], &[0.5, 0.5], 1, None).unwrap();
        assert_eq!(acc.result(), 0.5);
    }

    #[test]
    fn thresholds_outside_the_open_unit_interval_are_rejected() {
        for t in [0.0, 1.0, -0.1, 1.5, f32::NAN] {
            let err = BinaryAccuracy::default().with_threshold(t);
            assert!(matches!(
                err,
                Err(Error::InvalidArgument {
                    name: "threshold",
                    ..
                })
            ));
        }
    }
}
