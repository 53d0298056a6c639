//! What [`Precision`](super::Precision) and [`Recall`](super::Recall) share: `tp / (tp + x)` per
//! threshold, with Keras's `thresholds`, `top_k` and `class_id` arguments.

use super::{confusion_counts::ConfusionCounts, row_math::div_no_nan, thresholds::Thresholds};
use crate::Result;

/// Zeroed counts at Keras's default threshold: `0.5`, or `-1e10` with `top_k` (so that exactly
/// the top `k` predictions count as positive).
pub(crate) fn default_counts(top_k: bool) -> ConfusionCounts {
    ConfusionCounts::new(Thresholds::default_for(top_k), 1)
}

/// Zeroed counts at explicit thresholds, each in `[0, 1]`.
pub(crate) fn counts_at(thresholds: &[f32]) -> Result<ConfusionCounts> {
    Ok(ConfusionCounts::new(
        Thresholds::parse(Some(thresholds), false)?,
        1,
    ))
}

/// `tp / (tp + other)` per threshold (divide-no-nan).
pub(crate) fn rates(tp: &[f32], other: &[f32]) -> Vec<f32> {
    tp.iter()
        .zip(other)
        .map(|(&tp, &other)| div_no_nan(tp, tp + other))
        .collect()
}

/// Defines a metric reporting `tp / (tp + $other)` (divide-no-nan) per threshold over
/// [`ConfusionCounts`](super::confusion_counts::ConfusionCounts): the struct, `Default` / `new`,
/// the `with_thresholds`, `with_top_k` and `with_class_id` setters, `thresholds`,
/// [`MetricFn`](super::MetricFn) and [`Metric<K>`](super::Metric) on dense labels.
///
/// `$other` is the count field in the denominator (`fp` for precision, `fn_` for recall) and
/// `$log` the name the metric is logged under.
macro_rules! rate_at_thresholds {
    (
        $(#[$doc:meta])*
        $name:ident, $log:literal, $other:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            explicit_thresholds: bool,
            top_k: Option<usize>,
            class_id: Option<usize>,
            counts: $crate::metrics::confusion_counts::ConfusionCounts,
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl $name {
            #[doc = concat!(stringify!($name), " at threshold 0.5.")]
            pub fn new() -> Self {
                Self {
                    explicit_thresholds: false,
                    top_k: None,
                    class_id: None,
                    counts: $crate::metrics::rate_at_thresholds::default_counts(false),
                }
            }

            #[doc = concat!(
                "Thresholds in `[0, 1]`, one ", $log, " each. Defaults to `[0.5]` (or `[-1e10]` ",
                "with `top_k`)."
            )]
            pub fn with_thresholds(mut self, thresholds: &[f32]) -> $crate::Result<Self> {
                self.counts = $crate::metrics::rate_at_thresholds::counts_at(thresholds)?;
                self.explicit_thresholds = true;
                Ok(self)
            }

            /// Count only the `k >= 1` largest predictions of each row. Defaults to `None`.
            pub fn with_top_k(mut self, k: usize) -> $crate::Result<Self> {
                if k == 0 {
                    return Err($crate::Error::invalid("top_k", "top_k must be at least 1"));
                }
                self.top_k = Some(k);
                if !self.explicit_thresholds {
                    self.counts = $crate::metrics::rate_at_thresholds::default_counts(true);
                }
                Ok(self)
            }

            /// Count only this column. Defaults to `None`.
            pub fn with_class_id(mut self, class_id: usize) -> Self {
                self.class_id = Some(class_id);
                self
            }

            /// The thresholds in use (`f32`).
            pub fn thresholds(&self) -> &[f32] {
                self.counts.thresholds.values()
            }
        }

        impl $crate::metrics::MetricFn for $name {
            fn name(&self) -> &str {
                $log
            }

            fn keras_config(&self) -> Option<serde_json::Value> {
                use $crate::metrics::keras_config::{floats, object};
                let thresholds = if self.explicit_thresholds {
                    floats(self.thresholds())
                } else {
                    serde_json::Value::Null
                };
                let args = serde_json::json!({
                    "thresholds": thresholds,
                    "top_k": self.top_k,
                    "class_id": self.class_id,
                });
                Some(object(stringify!($name), $log, args))
            }

            fn direction(&self) -> $crate::metrics::Direction {
                $crate::metrics::Direction::Up
            }

            fn update_state(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                cols: usize,
                sample_weight: Option<&[f32]>,
            ) -> $crate::Result<()> {
                let sel = $crate::metrics::confusion_counts::Selection {
                    top_k: self.top_k,
                    class_id: self.class_id,
                    ..Default::default()
                };
                self.counts.update(y_true, y_pred, cols, sample_weight, sel)
            }

            fn confusion_form(&self) -> Option<$crate::metrics::ConfusionForm<'_>> {
                let sel = $crate::metrics::confusion_counts::Selection {
                    top_k: self.top_k,
                    class_id: self.class_id,
                    ..Default::default()
                };
                self.counts.device_form(sel, false)
            }

            fn result(&self) -> f32 {
                let c = &self.counts;
                $crate::metrics::row_math::div_no_nan(c.tp[0], c.tp[0] + c.$other[0])
            }

            fn result_values(&self) -> Vec<f32> {
                $crate::metrics::rate_at_thresholds::rates(&self.counts.tp, &self.counts.$other)
            }

            fn reset_state(&mut self) {
                self.counts.reset();
            }

            fn state_values(&self) -> Option<Vec<f32>> {
                Some(self.counts.state_values())
            }

            fn load_state_values(&mut self, values: &[f32]) -> $crate::Result<()> {
                let name = self.name().to_string();
                self.counts.load_state_values(values, &name)
            }

            fn merge_state(&mut self, other: &Self) -> $crate::Result<()> {
                self.counts.merge(&other.counts)
            }
        }

        impl<const K: usize> $crate::metrics::Metric<K> for $name {
            type Target = $crate::target::Dense<K>;
        }
    };
}

pub(crate) use rate_at_thresholds;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_denominator_gives_a_rate_of_zero() {
        assert_eq!(rates(&[2.0, 0.0], &[2.0, 0.0]), [0.5, 0.0]);
    }

    #[test]
    fn top_k_moves_the_default_threshold_below_every_score() {
        assert_eq!(default_counts(false).thresholds.values(), [0.5]);
        assert_eq!(default_counts(true).thresholds.values(), [-1e10]);
        assert!(counts_at(&[1.5]).is_err());
    }
}
