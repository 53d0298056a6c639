//! The mean metrics' updates of a [`MeanState`] from a batch of labels and predictions (the
//! state itself is a value in [`state`](crate::state)).

use super::inputs;
use crate::Result;

use crate::state::MeanState;

impl MeanState {
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

        $crate::metrics::mean_state::mean_state_storage!();
    };
}

/// The `reset_state` / `merge_state` / `state_values` / `load_state_values` methods of a
/// [`MetricFn`](super::MetricFn) impl whose state is a `state: MeanState` field (`[total,
/// count]`), for one whose result is not the mean (`Sum`).
macro_rules! mean_state_storage {
    () => {
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

pub(crate) use {mean_state_methods, mean_state_storage};

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
