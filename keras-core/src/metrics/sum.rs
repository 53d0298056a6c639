//! `keras.metrics.Sum`.

use std::marker::PhantomData;

use super::{inputs, Direction, Metric, MetricFn};
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
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, Sum};
/// let mut s: Sum = Sum::default();
/// s.update_values(&[1.0, 3.0, 5.0, 7.0], Some(&[1.0, 1.0, 0.0, 0.0])).unwrap();
/// assert_eq!(s.result(), 4.0);
/// ```
#[derive(Debug, Clone)]
pub struct Sum<L: Target = Dense<1>> {
    total: f32,
    direction: Direction,
    _labels: PhantomData<L>,
}

impl<L: Target> Default for Sum<L> {
    fn default() -> Self {
        Self {
            total: 0.0,
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
        let batch: f32 = y_pred
            .chunks(cols)
            .enumerate()
            .map(|(r, row)| row.iter().sum::<f32>() * inputs::weight_at(sample_weight, r))
            .sum();
        self.total += batch;
        Ok(())
    }

    fn result(&self) -> f32 {
        self.total
    }

    fn reset_state(&mut self) {
        self.total = 0.0;
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.total += other.total;
        Ok(())
    }

    fn state_values(&self) -> Option<Vec<f32>> {
        Some(vec![self.total])
    }

    fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
        match values {
            [total] => {
                self.total = *total;
                Ok(())
            }
            _ => Err(crate::Error::invalid(
                "state",
                format!("metric `sum` saves one value, got {}", values.len()),
            )),
        }
    }
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
    }

    #[test]
    fn reset_clears_the_total() {
        let mut s: Sum = Sum::default();
        s.update_values(&[5.0], None).unwrap();
        s.reset_state();
        assert_eq!(s.result(), 0.0);
    }
}
