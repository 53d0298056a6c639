//! `keras.metrics.TruePositives`, `FalsePositives`, `TrueNegatives`, `FalseNegatives`.

use super::{
    confusion_counts::{ConfusionCounts, Selection},
    keras_config,
    thresholds::Thresholds,
    Direction, Metric, MetricFn,
};
use crate::{target::Dense, Result};

macro_rules! condition_count {
    (
        $(#[$doc:meta])*
        $name:ident, $log:literal, $field:ident, $direction:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            counts: ConfusionCounts,
        }

        impl Default for $name {
            fn default() -> Self {
                Self {
                    counts: ConfusionCounts::new(Thresholds::default_for(false), 1),
                }
            }
        }

        impl $name {
            /// Thresholds in `[0, 1]`, one count each (strict `y_pred > threshold`). Defaults to
            /// `[0.5]`.
            pub fn with_thresholds(mut self, thresholds: &[f32]) -> Result<Self> {
                self.counts = ConfusionCounts::new(Thresholds::parse(Some(thresholds), false)?, 1);
                Ok(self)
            }

            /// The thresholds in use (`f32`).
            pub fn thresholds(&self) -> &[f32] {
                self.counts.thresholds.values()
            }
        }

        impl MetricFn for $name {
            fn name(&self) -> &str {
                $log
            }

            fn keras_config(&self) -> Option<serde_json::Value> {
                let thresholds = if self.counts.thresholds == Thresholds::default_for(false) {
                    serde_json::Value::Null
                } else {
                    keras_config::floats(self.thresholds())
                };
                let args = serde_json::json!({"thresholds": thresholds});
                Some(keras_config::object(stringify!($name), $log, args))
            }

            fn direction(&self) -> Direction {
                $direction
            }

            fn update_state(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                cols: usize,
                sample_weight: Option<&[f32]>,
            ) -> Result<()> {
                self.counts
                    .update(y_true, y_pred, cols, sample_weight, Selection::default())
            }

            fn confusion_form(&self) -> Option<$crate::metrics::ConfusionForm<'_>> {
                self.counts.device_form(Selection::default(), false)
            }

            /// The count at the first threshold; [`MetricFn::result_values`] has one per threshold.
            fn result(&self) -> f32 {
                self.counts.$field[0]
            }

            fn result_values(&self) -> Vec<f32> {
                self.counts.$field.clone()
            }

            fn reset_state(&mut self) {
                self.counts.reset();
            }

            fn state_values(&self) -> Option<Vec<f32>> {
                Some(self.counts.state_values())
            }

            fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
                let name = self.name().to_string();
                self.counts.load_state_values(values, &name)
            }

            fn merge_state(&mut self, other: &Self) -> Result<()> {
                self.counts.merge(&other.counts)
            }
        }

        impl<const K: usize> Metric<K> for $name {
            type Target = Dense<K>;
        }
    };
}

condition_count!(
    /// The (weighted) number of true positives: label non-zero and `y_pred > threshold`.
    ///
    /// Every element of `y_true` / `y_pred` counts (rows and columns are flattened); a row's
    /// `sample_weight` weighs all of its elements.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, TruePositives};
    /// let mut m = TruePositives::default();
    /// m.update_state(&[0.0, 1.0, 1.0, 1.0], &[1.0, 0.0, 1.0, 1.0], 1, None).unwrap();
    /// assert_eq!(m.result(), 2.0);
    /// ```
    TruePositives, "true_positives", tp, Direction::Up
);

condition_count!(
    /// The (weighted) number of false positives: label zero and `y_pred > threshold`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{FalsePositives, MetricFn};
    /// let mut m = FalsePositives::default();
    /// m.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.0, 0.0, 1.0, 1.0], 1, Some(&[0.0, 0.0, 1.0, 0.0]))
    ///     .unwrap();
    /// assert_eq!(m.result(), 1.0);
    /// ```
    FalsePositives, "false_positives", fp, Direction::Down
);

condition_count!(
    /// The (weighted) number of true negatives: label zero and `y_pred <= threshold`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, TrueNegatives};
    /// let mut m = TrueNegatives::default();
    /// m.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 1, None).unwrap();
    /// assert_eq!(m.result(), 2.0);
    /// ```
    TrueNegatives, "true_negatives", tn, Direction::Up
);

condition_count!(
    /// The (weighted) number of false negatives: label non-zero and `y_pred <= threshold`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{FalseNegatives, MetricFn};
    /// let mut m = FalseNegatives::default().with_thresholds(&[0.0, 0.5]).unwrap();
    /// m.update_state(&[0.0, 1.0, 1.0, 1.0], &[0.0, 1.0, 0.0, 0.4], 1, None).unwrap();
    /// assert_eq!(m.result_values(), [1.0, 2.0]);
    /// ```
    FalseNegatives, "false_negatives", fn_, Direction::Down
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn one_count_per_threshold() {
        let mut m = TruePositives::default()
            .with_thresholds(&[0.1, 0.5, 0.9])
            .unwrap();
        m.update_state(&[1.0, 1.0, 1.0], &[0.2, 0.6, 1.0], 1, None)
            .unwrap();
        assert_eq!(m.result_values(), [3.0, 2.0, 1.0]);
    }

    #[test]
    fn thresholds_outside_the_unit_interval_are_rejected() {
        let err = FalseNegatives::default().with_thresholds(&[0.5, 1.2]);
        assert!(matches!(
            err,
            Err(Error::InvalidArgument {
                name: "thresholds",
                ..
            })
        ));
    }
}
