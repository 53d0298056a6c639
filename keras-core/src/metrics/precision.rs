//! `keras.metrics.Precision`.

use super::{
    confusion_counts::{ConfusionCounts, Selection},
    row_math::div_no_nan,
    thresholds::Thresholds,
    Direction, Metric, MetricFn,
};
use crate::{target::Dense, Error, Result};

/// `tp / (tp + fp)` per threshold, over everything seen so far (divide-no-nan).
///
/// A prediction is positive when `y_pred > threshold` (strict). With `top_k`, only the `k`
/// largest predictions of each row can be positive (the default threshold then becomes
/// `-1e10`, so exactly those count); with `class_id`, only that column is counted. Every other
/// element of `y_true` / `y_pred` counts (flattened).
///
/// [`result`](MetricFn::result) is the precision at the first threshold;
/// [`result_values`](MetricFn::result_values) has one per threshold.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, Precision};
/// let mut p = Precision::new();
/// p.update_state(&[0.0, 1.0, 1.0, 1.0], &[1.0, 0.0, 1.0, 1.0], 1, None).unwrap();
/// assert!((p.result() - 2.0 / 3.0).abs() < 1e-7);
///
/// let mut top2 = Precision::new().with_top_k(2).unwrap();
/// top2.update_state(&[0.0, 0.0, 1.0, 1.0], &[1.0, 1.0, 1.0, 1.0], 4, None).unwrap();
/// assert_eq!(top2.result(), 0.0);
/// ```
#[derive(Debug, Clone)]
pub struct Precision {
    explicit_thresholds: bool,
    top_k: Option<usize>,
    class_id: Option<usize>,
    counts: ConfusionCounts,
}

impl Default for Precision {
    fn default() -> Self {
        Self::new()
    }
}

impl Precision {
    /// Precision at threshold 0.5.
    pub fn new() -> Self {
        Self {
            explicit_thresholds: false,
            top_k: None,
            class_id: None,
            counts: ConfusionCounts::new(Thresholds::default_for(false), 1),
        }
    }

    /// Thresholds in `[0, 1]`, one precision each. Defaults to `[0.5]` (or `[-1e10]` with
    /// `top_k`).
    pub fn with_thresholds(mut self, thresholds: &[f32]) -> Result<Self> {
        self.counts = ConfusionCounts::new(Thresholds::parse(Some(thresholds), false)?, 1);
        self.explicit_thresholds = true;
        Ok(self)
    }

    /// Count only the `k >= 1` largest predictions of each row. Defaults to `None`.
    pub fn with_top_k(mut self, k: usize) -> Result<Self> {
        if k == 0 {
            return Err(Error::invalid("top_k", "top_k must be at least 1"));
        }
        self.top_k = Some(k);
        if !self.explicit_thresholds {
            self.counts = ConfusionCounts::new(Thresholds::default_for(true), 1);
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

impl MetricFn for Precision {
    fn name(&self) -> &str {
        "precision"
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
        let sel = Selection {
            top_k: self.top_k,
            class_id: self.class_id,
            ..Selection::default()
        };
        self.counts.update(y_true, y_pred, cols, sample_weight, sel)
    }

    fn result(&self) -> f32 {
        div_no_nan(self.counts.tp[0], self.counts.tp[0] + self.counts.fp[0])
    }

    fn result_values(&self) -> Vec<f32> {
        let c = &self.counts;
        c.tp.iter()
            .zip(&c.fp)
            .map(|(&tp, &fp)| div_no_nan(tp, tp + fp))
            .collect()
    }

    fn reset_state(&mut self) {
        self.counts.reset();
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.counts.merge(&other.counts)
    }
}

impl<const K: usize> Metric<K> for Precision {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_id_counts_one_column_only() {
        let mut p = Precision::new().with_class_id(1);
        p.update_state(&[0.0, 1.0, 1.0, 0.0], &[0.9, 0.9, 0.9, 0.9], 2, None)
            .unwrap();
        assert_eq!(p.result(), 0.5);
    }

    #[test]
    fn top_k_zero_is_rejected() {
        assert!(matches!(
            Precision::new().with_top_k(0),
            Err(Error::InvalidArgument { name: "top_k", .. })
        ));
    }

    #[test]
    fn thresholds_outside_the_unit_interval_are_rejected() {
        assert!(Precision::new().with_thresholds(&[-0.5]).is_err());
    }
}
