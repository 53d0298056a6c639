//! The shared state of Keras's `SensitivitySpecificityBase` family: counts on a threshold grid and
//! "best rate B where rate A >= value".

use super::{
    confusion_counts::{ConfusionCounts, Selection},
    row_math::div_no_nan,
    thresholds::Thresholds,
};
use crate::{Error, Result};

/// A rate computed from the counts at one threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rate {
    /// `tp / (tp + fn)` (recall).
    Sensitivity,
    /// `tn / (tn + fp)`.
    Specificity,
    /// `tp / (tp + fp)`.
    Precision,
}

/// Counts on a `num_thresholds` grid plus the constraint value and `class_id`.
#[derive(Debug, Clone)]
pub(crate) struct ConstrainedRate {
    value: f32,
    class_id: Option<usize>,
    pub(crate) counts: ConfusionCounts,
}

impl ConstrainedRate {
    /// Validates `value` in `[0, 1]` (reported as `name`); 200 thresholds.
    pub(crate) fn new(name: &'static str, value: f32) -> Result<Self> {
        if !(0.0..=1.0).contains(&value) {
            return Err(Error::invalid(
                name,
                format!("must be in the range [0, 1], got {value}"),
            ));
        }
        Ok(Self {
            value,
            class_id: None,
            counts: ConfusionCounts::new(Thresholds::grid(200)?, 1),
        })
    }

    /// Replaces the grid (`num_thresholds >= 1`).
    pub(crate) fn set_num_thresholds(&mut self, num_thresholds: usize) -> Result<()> {
        self.counts = ConfusionCounts::new(Thresholds::grid(num_thresholds)?, 1);
        Ok(())
    }

    /// Keras's arguments: `class_id`, `num_thresholds` and the constraint value as `param`.
    pub(crate) fn keras_args(&self, param: &str) -> serde_json::Value {
        let mut args = serde_json::json!({
            "class_id": self.class_id,
            "num_thresholds": self.counts.thresholds.len(),
        });
        args[param] = super::keras_config::float(self.value);
        args
    }

    pub(crate) fn set_class_id(&mut self, class_id: usize) {
        self.class_id = Some(class_id);
    }

    pub(crate) fn update(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let sel = Selection {
            class_id: self.class_id,
            ..Selection::default()
        };
        self.counts.update(y_true, y_pred, cols, sample_weight, sel)
    }

    /// The counts' [`ConfusionForm`](crate::kernels::ConfusionForm).
    pub(crate) fn confusion_form(&self) -> Option<crate::kernels::ConfusionForm<'_>> {
        let sel = Selection {
            class_id: self.class_id,
            ..Selection::default()
        };
        self.counts.device_form(sel, false)
    }

    fn rate(&self, rate: Rate, i: usize) -> f32 {
        let c = &self.counts;
        match rate {
            Rate::Sensitivity => div_no_nan(c.tp[i], c.tp[i] + c.fn_[i]),
            Rate::Specificity => div_no_nan(c.tn[i], c.tn[i] + c.fp[i]),
            Rate::Precision => div_no_nan(c.tp[i], c.tp[i] + c.fp[i]),
        }
    }

    /// Keras's `_find_max_under_constraint`: the largest `dependent` rate over thresholds where
    /// `constrained >= value`, or 0 when none qualifies.
    pub(crate) fn max_under_constraint(&self, constrained: Rate, dependent: Rate) -> f32 {
        (0..self.counts.thresholds.len())
            .filter(|&i| self.rate(constrained, i) >= self.value)
            .map(|i| self.rate(dependent, i))
            .fold(0.0, f32::max)
    }

    pub(crate) fn reset(&mut self) {
        self.counts.reset();
    }

    pub(crate) fn merge(&mut self, other: &Self) -> Result<()> {
        self.counts.merge(&other.counts)
    }
}

/// Defines a metric of this family: the struct around a [`ConstrainedRate`], its `new($param)`
/// (the constraint value, reported as `$param` when out of range), the `with_num_thresholds` and
/// `with_class_id` setters, [`MetricFn`](super::MetricFn) reporting the best `$dependent` rate
/// over thresholds where the `$constrained` rate reaches the value, and
/// [`Metric<K>`](super::Metric) on dense labels.
macro_rules! constrained_rate_metric {
    (
        $(#[$doc:meta])*
        $name:ident, $log:literal, $param:ident, $constrained:ident, $dependent:ident
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone)]
        pub struct $name {
            inner: $crate::metrics::constrained_rate::ConstrainedRate,
        }

        impl $name {
            #[doc = concat!(
                "The metric at `", stringify!($param), "` in `[0, 1]`, with 200 thresholds."
            )]
            pub fn new($param: f32) -> $crate::Result<Self> {
                Ok(Self {
                    inner: $crate::metrics::constrained_rate::ConstrainedRate::new(
                        stringify!($param),
                        $param,
                    )?,
                })
            }

            /// Number of thresholds of the grid, at least 1. Defaults to `200`.
            pub fn with_num_thresholds(mut self, num_thresholds: usize) -> $crate::Result<Self> {
                self.inner.set_num_thresholds(num_thresholds)?;
                Ok(self)
            }

            /// Count only this column. Defaults to `None`.
            pub fn with_class_id(mut self, class_id: usize) -> Self {
                self.inner.set_class_id(class_id);
                self
            }
        }

        impl $crate::metrics::MetricFn for $name {
            fn name(&self) -> &str {
                $log
            }

            fn keras_config(&self) -> Option<serde_json::Value> {
                let args = self.inner.keras_args(stringify!($param));
                Some($crate::metrics::keras_config::object(stringify!($name), $log, args))
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
                self.inner.update(y_true, y_pred, cols, sample_weight)
            }

            fn confusion_form(&self) -> Option<$crate::metrics::ConfusionForm<'_>> {
                self.inner.confusion_form()
            }

            fn result(&self) -> f32 {
                use $crate::metrics::constrained_rate::Rate;
                self.inner.max_under_constraint(Rate::$constrained, Rate::$dependent)
            }

            fn reset_state(&mut self) {
                self.inner.reset();
            }

            fn state_values(&self) -> Option<Vec<f32>> {
                Some(self.inner.counts.state_values())
            }

            fn load_state_values(&mut self, values: &[f32]) -> $crate::Result<()> {
                let name = self.name().to_string();
                self.inner.counts.load_state_values(values, &name)
            }

            fn merge_state(&mut self, other: &Self) -> $crate::Result<()> {
                self.inner.merge(&other.inner)
            }
        }

        impl<const K: usize> $crate::metrics::Metric<K> for $name {
            type Target = $crate::target::Dense<K>;
        }
    };
}

pub(crate) use constrained_rate_metric;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_feasible_threshold_gives_zero() {
        let mut r = ConstrainedRate::new("recall", 1.0).unwrap();
        r.set_num_thresholds(3).unwrap();
        r.update(&[1.0, 0.0], &[0.0, 0.0], 1, None).unwrap();
        // A positive predicted at exactly 0 is never above a threshold: recall stays 0.
        assert_eq!(
            r.max_under_constraint(Rate::Sensitivity, Rate::Precision),
            0.0
        );
    }

    #[test]
    fn the_constraint_value_must_be_a_rate() {
        assert!(matches!(
            ConstrainedRate::new("precision", 1.5),
            Err(Error::InvalidArgument {
                name: "precision",
                ..
            })
        ));
    }
}
