//! `keras.metrics.Mean`.

use std::marker::PhantomData;

use super::{
    inputs, mean_state::mean_state_methods, row_math, Direction, MeanState, Metric, MetricFn,
    RowMetric,
};
use crate::{
    target::{Dense, Target},
    Result,
};

/// The weighted mean of the values it is given (`total / count`).
///
/// As a [`MetricFn`], the values are `y_pred`: each row of `cols` values is first averaged, then
/// the rows are weighted by `sample_weight`; `y_true` is ignored. [`Mean::update_values`] takes
/// the values directly. The type parameter `L` is the label layout of the metric set it joins
/// (the labels are ignored); it defaults to one value per sample.
///
/// Keras leaves `Mean`'s direction unset; here it is [`Direction::Down`], since `Mean` is what
/// tracks losses, and [`Mean::with_direction`] changes it.
///
/// # Examples
/// ```
/// use keras_core::metrics::{Mean, MetricFn};
/// let mut m: Mean = Mean::default();
/// m.update_values(&[1.0, 3.0, 5.0, 7.0], None).unwrap();
/// assert_eq!(m.result(), 4.0);
/// m.reset_state();
/// m.update_values(&[1.0, 3.0, 5.0, 7.0], Some(&[1.0, 1.0, 0.0, 0.0])).unwrap();
/// assert_eq!(m.result(), 2.0);
/// ```
#[derive(Debug, Clone)]
pub struct Mean<L: Target = Dense<1>> {
    state: MeanState,
    direction: Direction,
    _labels: PhantomData<L>,
}

impl<L: Target> Default for Mean<L> {
    fn default() -> Self {
        Self {
            state: MeanState::default(),
            direction: Direction::Down,
            _labels: PhantomData,
        }
    }
}

impl<L: Target> Mean<L> {
    /// Whether larger or smaller is better, for `EarlyStopping(mode="auto")`. Defaults to
    /// `Direction::Down`.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = direction;
        self
    }

    /// Accumulates one value per sample (Keras's `Mean.update_state(values, sample_weight)`).
    pub fn update_values(&mut self, values: &[f32], sample_weight: Option<&[f32]>) -> Result<()> {
        inputs::check_weights(sample_weight, values.len())?;
        self.state.update(values.iter().copied(), sample_weight);
        Ok(())
    }
}

impl<L: Target> MetricFn for Mean<L> {
    fn name(&self) -> &str {
        "mean"
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
        let values = y_pred.chunks(cols).map(row_math::mean);
        self.state.update(values, sample_weight);
        Ok(())
    }

    /// Each row's mean, weighted: a state the device kernels keep where the model's output is.
    fn row_form(&self) -> Option<RowMetric> {
        Some(RowMetric::PredictionMean)
    }

    mean_state_methods!();
}

impl<const K: usize, L: Target> Metric<K> for Mean<L> {
    type Target = L;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_averaged_before_weighting() {
        let mut m: Mean = Mean::default();
        m.update_state(&[], &[1.0, 3.0, 10.0, 10.0], 2, Some(&[1.0, 3.0]))
            .unwrap();
        assert_eq!(m.result(), (2.0 + 30.0) / 4.0);
    }

    #[test]
    fn merging_two_halves_equals_one_pass() {
        let mut a: Mean = Mean::default();
        let mut b: Mean = Mean::default();
        a.update_values(&[1.0, 2.0], None).unwrap();
        b.update_values(&[6.0], None).unwrap();
        a.merge_state(&b).unwrap();
        assert_eq!(a.result(), 3.0);
    }
}
