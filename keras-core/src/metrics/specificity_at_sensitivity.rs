//! `keras.metrics.SpecificityAtSensitivity`.

use super::{
    constrained_rate::{ConstrainedRate, Rate},
    Direction, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// The best specificity (`tn / (tn + fp)`) over thresholds where sensitivity (`tp / (tp + fn)`)
/// is at least `sensitivity`.
///
/// Counts are kept on a grid of `num_thresholds` thresholds `[0, 1/(n-1), ..., 1]` (`[0.5]` for
/// one threshold), with strict `y_pred > threshold`; `class_id` restricts them to one column,
/// otherwise every element counts. `sensitivity` must lie in `[0, 1]`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, SpecificityAtSensitivity};
/// let mut m = SpecificityAtSensitivity::new(0.5).unwrap();
/// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, None).unwrap();
/// assert!((m.result() - 0.6666667).abs() < 1e-6);
/// m.reset_state();
/// m.update_state(&[0.0, 0.0, 0.0, 1.0, 1.0], &[0.0, 0.3, 0.8, 0.3, 0.8], 1, Some(&[1.0, 1.0, 2.0, 2.0, 2.0])).unwrap();
/// assert!((m.result() - 0.5).abs() < 1e-6);
/// assert!(SpecificityAtSensitivity::new(1.5).is_err());
/// ```
#[derive(Debug, Clone)]
pub struct SpecificityAtSensitivity {
    inner: ConstrainedRate,
}

impl SpecificityAtSensitivity {
    /// The metric at `sensitivity` in `[0, 1]`, with 200 thresholds.
    pub fn new(sensitivity: f32) -> Result<Self> {
        Ok(Self {
            inner: ConstrainedRate::new("sensitivity", sensitivity)?,
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

impl MetricFn for SpecificityAtSensitivity {
    fn name(&self) -> &str {
        "specificity_at_sensitivity"
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
            .max_under_constraint(Rate::Sensitivity, Rate::Specificity)
    }

    fn reset_state(&mut self) {
        self.inner.reset();
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.inner.merge(&other.inner)
    }
}

impl<const K: usize> Metric<K> for SpecificityAtSensitivity {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_threshold_grid_is_one_half() {
        let mut m = SpecificityAtSensitivity::new(0.5)
            .unwrap()
            .with_num_thresholds(1)
            .unwrap();
        m.update_state(&[0.0, 1.0], &[0.4, 0.6], 1, None).unwrap();
        assert_eq!(m.result(), 1.0);
        assert!(SpecificityAtSensitivity::new(0.5)
            .unwrap()
            .with_num_thresholds(0)
            .is_err());
    }
}
