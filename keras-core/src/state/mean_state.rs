//! The `total / count` state shared by Keras's mean metrics (`reduction_metrics.Mean`) and the
//! trainer's loss tracker.

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
        // divide-no-nan, as `metrics::row_math::div_no_nan`.
        if self.count == 0.0 {
            0.0
        } else {
            self.total / self.count
        }
    }

    /// Clears the state.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Rebuilds a state from `[total, count]` (what the mean metrics'
    /// [`state_values`](crate::metrics::MetricFn::state_values) return).
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
}
