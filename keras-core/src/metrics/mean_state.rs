//! The `total / count` state shared by Keras's mean metrics (`reduction_metrics.Mean`).

use super::{inputs, row_math};
use crate::kernels::metric::add_batch;
use crate::Result;

/// Running weighted mean: `total += sum(v * w)`, `count += sum(w)`, `result = total / count`.
///
/// Every batch is summed in `f32` first and then added to the running totals, as Keras's
/// `Mean.update_state` does.
///
/// # Examples
/// ```
/// use keras_core::metrics::MeanState;
/// let mut s = MeanState::default();
/// s.update([1.0, 3.0].into_iter(), Some(&[1.0, 0.0]));
/// s.update([5.0].into_iter(), None);
/// assert_eq!((s.total, s.count, s.result()), (6.0, 2.0, 3.0));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MeanState {
    /// Sum of weighted values.
    pub total: f32,
    /// Sum of weights.
    pub count: f32,
}

impl MeanState {
    /// Adds per-row `values`, weighted by `sample_weight` (1 each when `None`).
    pub fn update(&mut self, values: impl Iterator<Item = f32>, sample_weight: Option<&[f32]>) {
        // The arithmetic of the device kernels' CPU side (`kernels::metric`).
        let mut state = [self.total, self.count];
        match sample_weight {
            Some(w) => add_batch(&mut state, values.zip(w.iter().copied())),
            None => add_batch(&mut state, values.map(|v| (v, 1.0))),
        }
        [self.total, self.count] = state;
    }

    /// `total / count`, 0 when nothing was seen (divide-no-nan).
    pub fn result(&self) -> f32 {
        row_math::div_no_nan(self.total, self.count)
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Rebuilds a state from `[total, count]` (what the mean metrics'
    /// [`state_values`](super::MetricFn::state_values) return).
    pub fn from_values(values: &[f32]) -> Result<Self> {
        match values {
            &[total, count] => Ok(Self { total, count }),
            _ => Err(crate::Error::invalid(
                "state",
                format!(
                    "a mean state is [total, count], got {} values",
                    values.len()
                ),
            )),
        }
    }

    /// Merges another state into this one.
    pub fn merge(&mut self, other: &Self) {
        self.total += other.total;
        self.count += other.count;
    }

    /// Keras's `MeanMetricWrapper` on a dense batch: `f(y_true_row, y_pred_row)` per row, then
    /// the weighted mean update.
    pub(crate) fn update_dense(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
        mut f: impl FnMut(&[f32], &[f32]) -> f32,
    ) -> Result<()> {
        let rows = inputs::dense_rows(y_true, y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        let values = (0..rows).map(|r| {
            let range = r * cols..(r + 1) * cols;
            f(&y_true[range.clone()], &y_pred[range])
        });
        self.update(values, sample_weight);
        Ok(())
    }

    /// Keras's `MeanMetricWrapper` on a sparse batch: `f(label, y_pred_row)` per row.
    pub(crate) fn update_sparse(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
        mut f: impl FnMut(usize, f32, &[f32]) -> Result<f32>,
    ) -> Result<()> {
        let rows = inputs::sparse_rows(y_true, y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        let mut values = Vec::with_capacity(rows);
        for r in 0..rows {
            values.push(f(r, y_true[r], &y_pred[r * cols..(r + 1) * cols])?);
        }
        self.update(values.into_iter(), sample_weight);
        Ok(())
    }
}

/// The `result` / `reset_state` / `merge_state` / `state_values` / `load_state_values` methods
/// of a [`MetricFn`](super::MetricFn) impl
/// whose state is a `state: MeanState` field.
macro_rules! mean_state_methods {
    () => {
        fn result(&self) -> f32 {
            self.state.result()
        }

        fn reset_state(&mut self) {
            self.state.reset();
        }

        fn merge_state(&mut self, other: &Self) -> $crate::Result<()> {
            self.state.merge(&other.state);
            Ok(())
        }

        fn state_values(&self) -> Option<Vec<f32>> {
            Some(vec![self.state.total, self.state.count])
        }

        fn load_state_values(&mut self, values: &[f32]) -> $crate::Result<()> {
            self.state = $crate::metrics::MeanState::from_values(values)?;
            Ok(())
        }
    };
}

pub(crate) use mean_state_methods;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unweighted_rows_count_one_each() {
        let mut s = MeanState::default();
        s.update([2.0, 4.0].into_iter(), None);
        assert_eq!(s.result(), 3.0);
    }

    #[test]
    fn an_empty_state_reports_zero() {
        assert_eq!(MeanState::default().result(), 0.0);
    }

    #[test]
    fn dense_updates_reject_a_weight_per_element() {
        let mut s = MeanState::default();
        let err = s.update_dense(&[0.0; 4], &[0.0; 4], 2, Some(&[1.0; 4]), |_, _| 0.0);
        assert!(matches!(err, Err(crate::Error::LengthMismatch { .. })));
    }
}
