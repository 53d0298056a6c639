//! `keras.metrics.RecallAtPrecision`.

use super::{
    constrained_rate::{ConstrainedRate, Rate},
    Direction, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// The best recall over thresholds where precision is at least `precision` (0 when no threshold
/// reaches it).
///
/// Counts are kept on a grid of `num_thresholds` thresholds `[0, 1/(n-1), ..., 1]` (`[0.5]` for
/// one threshold), with strict `y_pred > threshold`; `class_id` restricts them to one column,
/// otherwise every element counts. `precision` must lie in `[0, 1]`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, RecallAtPrecision};
/// let mut m = RecallAtPrecision::new(0.8).unwrap();
/// m.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.5, 0.3, 0.9], 1, None).unwrap();
/// assert!((m.result() - 0.5).abs() < 1e-6);
/// m.reset_state();
/// m.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.5, 0.3, 0.9], 1, Some(&[1.0, 0.0, 0.0, 1.0])).unwrap();
/// assert!((m.result() - 1.0).abs() < 1e-6);
/// assert!(RecallAtPrecision::new(1.5).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct RecallAtPrecision {
    inner: ConstrainedRate,
}

impl RecallAtPrecision {
    /// The metric at `precision` in `[0, 1]`, with 200 thresholds.
    pub fn new(precision: f32) -> Result<Self> {
        Ok(Self {
            inner: ConstrainedRate::new("precision", precision)?,
        })
    }

    /// Number of thresholds of the grid, at least 1. Defaults to `200`.
    pub fn with_num_thresholds(mut self, num_thresholds: usize) -> Result<Self> {
        self.inner.set_num_thresholds(num_thresholds)?;
        Ok(self)
    }

    /// Count only this column. Defaults to `None`.
    pub fn with_class_id(mut self, class_id: usize) -> Self {
        self.inner.set_class_id(class_id);
        self
    }
}

impl MetricFn for RecallAtPrecision {
    fn name(&self) -> &str {
        "recall_at_precision"
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
        self.inner.update(y_true, y_pred, cols, sample_weight)
    }

    fn result(&self) -> f32 {
        self.inner
            .max_under_constraint(Rate::Precision, Rate::Sensitivity)
    }

    fn reset_state(&mut self) {
        self.inner.reset();
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.inner.merge(&other.inner)
    }
}

impl<const K: usize> Metric<K> for RecallAtPrecision {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_precision_gives_zero() {
        let mut m = RecallAtPrecision::new(1.0).unwrap();
        m.update_state(&[0.0, 1.0], &[0.9, 0.4], 1, None).unwrap();
        assert_eq!(m.result(), 0.0);
    }
}
