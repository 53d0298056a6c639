//! `keras.metrics.Sum`.

use std::marker::PhantomData;

use super::mean_state::mean_state_storage;
use super::{inputs, Direction, MeanState, Metric, MetricFn, RowMetric};
use crate::{
    target::{Dense, Target},
    Result,
};

/// The weighted sum of the values it is given.
///
/// As a [`MetricFn`], the values are `y_pred`: each row of `cols` values is summed, then weighted
/// by `sample_weight`; `y_true` is ignored. `L` is the label layout of the metric set it joins.
/// Keras leaves the direction unset; it is [`Direction::Down`] here unless
/// [`Sum::with_direction`] says otherwise.
///
/// Its state is `[total, count]` (the weights seen, as a [`Mean`](super::Mean) keeps them; the
/// result is `total`), so that compiled on a device it keeps that state where the model's
/// output is ([`RowMetric::PredictionSum`]).
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, Sum};
/// let mut s: Sum = Sum::default();
/// s.update_values(&[1.0, 3.0, 5.0, 7.0], Some(&[1.0, 1.0, 0.0, 0.0])).unwrap();
/// assert_eq!(s.result(), 4.0);
/// ```
#[derive(Debug, Clone)]
pub struct Sum<L: Target = Dense<1>> {
    state: MeanState,
    direction: Direction,
    _labels: PhantomData<L>,
}

impl<L: Target> Default for Sum<L> {
    fn default() -> Self {
        Self {
            state: MeanState::default(),
            direction: Direction::Down,
            _labels: PhantomData,
        }
    }
}

impl<L: Target> Sum<L> {
    /// Whether larger or smaller is better. Defaults to `Direction::Down`.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Accumulates one value per sample (Keras's `Sum.update_state(values, sample_weight)`).
    pub fn update_values(&mut self, values: &[f32], sample_weight: Option<&[f32]>) -> Result<()> {
        self.update_state(&[], values, 1, sample_weight)
    }
}

impl<L: Target> MetricFn for Sum<L> {
    fn name(&self) -> &str {
        "sum"
    }

    fn direction(&self) -> Direction {
        self.direction
    }

    fn update_state(
        &mut self,
        _y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let rows = inputs::rows(y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        let values = y_pred
            .chunks(cols)
            .map(|row| RowMetric::PredictionSum.row(&[], row));
        self.state.update(values, sample_weight);
        Ok(())
    }

    /// Each row's sum, weighted: a state the device kernels keep where the model's output is.
    fn row_form(&self) -> Option<RowMetric> {
        Some(RowMetric::PredictionSum)
    }

    fn result(&self) -> f32 {
        self.state.total
    }

    mean_state_storage!();
}

impl<const K: usize, L: Target> Metric<K> for Sum<L> {
    type Target = L;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_summed_then_weighted() {
        let mut s: Sum = Sum::default();
        s.update_state(&[], &[1.0, 2.0, 3.0, 4.0], 2, Some(&[2.0, 0.5]))
            .unwrap();
        assert_eq!(s.result(), 6.0 + 3.5);
        assert_eq!(s.state_values(), Some(vec![9.5, 2.5]));
        // Compiled on a device, the same rows are summed there.
        assert!(s.has_device_form());
        assert_eq!(RowMetric::PredictionSum.row(&[], &[1.0, 2.0]), 3.0);
    }

    #[test]
    fn reset_clears_the_total() {
        let mut s: Sum = Sum::default();
        s.update_values(&[5.0], None).unwrap();
        s.reset_state();
        assert_eq!(s.result(), 0.0);
    }

    #[test]
    fn a_saved_state_loads_and_other_lengths_are_refused() {
        let mut s: Sum = Sum::default();
        s.load_state_values(&[3.0, 2.0]).unwrap();
        assert_eq!(s.result(), 3.0);
        for bad in [&[7.0][..], &[1.0, 2.0, 3.0], &[]] {
            assert!(s.load_state_values(bad).is_err());
            assert_eq!(s.result(), 3.0, "a refused state changes nothing");
        }
    }
}
