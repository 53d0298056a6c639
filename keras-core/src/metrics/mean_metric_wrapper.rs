//! A user function as a metric, in one line: Keras's `MeanMetricWrapper(fn, name)`.

use std::marker::PhantomData;

use super::{inputs, mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn};
use crate::{target::Target, Result};

/// The weighted mean over samples of `f(y_true_row, y_pred_row)`, a function of one sample's
/// labels (one class id for sparse labels `T`, else a row as wide as the output) and
/// predictions: Keras's `MeanMetricWrapper`. Its state is Keras's `[total, count]`, so it
/// resumes mid-epoch and merges like the built-in mean metrics.
///
/// # Examples
/// ```
/// use keras_core::metrics::{Direction, MeanMetricWrapper, MetricFn};
/// use keras_core::target::Dense;
///
/// // The largest absolute error of each sample, averaged over samples.
/// let mut max_error = MeanMetricWrapper::<Dense<2>, _>::new("max_error", Direction::Down, |t, p| {
///     t.iter().zip(p).map(|(t, p)| (t - p).abs()).fold(0.0, f32::max)
/// });
/// max_error.update_state(&[0.0, 1.0, 1.0, 1.0], &[0.5, 1.0, 0.0, 0.75], 2, None)?;
/// assert_eq!((max_error.name(), max_error.result()), ("max_error", 0.75));
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Clone)]
pub struct MeanMetricWrapper<T: Target, F> {
    name: &'static str,
    direction: Direction,
    f: F,
    state: MeanState,
    _labels: PhantomData<fn() -> T>,
}

impl<T: Target, F: Fn(&[f32], &[f32]) -> f32> MeanMetricWrapper<T, F> {
    /// The metric `f`, logged as `name`; `direction` says whether larger is better (for
    /// `EarlyStopping(mode="auto")`).
    pub fn new(name: &'static str, direction: Direction, f: F) -> Self {
        Self {
            name,
            direction,
            f,
            state: MeanState::default(),
            _labels: PhantomData,
        }
    }
}

impl<T: Target, F> std::fmt::Debug for MeanMetricWrapper<T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MeanMetricWrapper")
            .field("name", &self.name)
            .field("state", &self.state)
            .finish()
    }
}

impl<T: Target, F: Fn(&[f32], &[f32]) -> f32> MetricFn for MeanMetricWrapper<T, F> {
    fn name(&self) -> &str {
        self.name
    }

    fn direction(&self) -> Direction {
        self.direction
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let (rows, width) = if T::SPARSE {
            (inputs::sparse_rows(y_true, y_pred, cols)?, 1)
        } else {
            (inputs::dense_rows(y_true, y_pred, cols)?, cols)
        };
        inputs::check_weights(sample_weight, rows)?;
        let f = &self.f;
        let values = (0..rows).map(|r| {
            f(
                &y_true[r * width..(r + 1) * width],
                &y_pred[r * cols..(r + 1) * cols],
            )
        });
        self.state.update(values, sample_weight);
        Ok(())
    }

    mean_state_methods!();
}

/// Sparse labels take one class id per sample; dense ones must be as wide as the output
/// (checked at build time).
impl<const K: usize, T: Target, F: Fn(&[f32], &[f32]) -> f32> Metric<K>
    for MeanMetricWrapper<T, F>
{
    type Target = T;
    const CHECK: () = assert!(T::SPARSE || T::WIDTH == K, "{}", LABEL_WIDTH);
}

/// What [`MeanMetricWrapper`]'s build-time check says.
const LABEL_WIDTH: &str = "MeanMetricWrapper: dense labels must be as wide as the model output";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricSet;
    use crate::target::Sparse;

    #[test]
    fn a_sparse_function_metric_sees_the_class_id_and_weighs_rows() {
        let mut hit = MeanMetricWrapper::<Sparse, _>::new("first_class", Direction::Up, |t, p| {
            f32::from(u8::from(t[0] == 0.0 && p[0] > p[1]))
        });
        hit.update_state(&[0.0, 1.0], &[0.9, 0.1, 0.8, 0.2], 2, Some(&[3.0, 1.0]))
            .unwrap();
        assert_eq!(hit.result(), 0.75);
        assert_eq!(hit.state_values(), Some(vec![3.0, 4.0]));
        let mut other = hit.clone();
        other.reset_state();
        other.update_state(&[0.0], &[0.9, 0.1], 2, None).unwrap();
        hit.merge_state(&other).unwrap();
        assert_eq!(hit.result(), 0.8);
        assert!(hit
            .update_state(&[0.0], &[0.9, 0.1, 0.8, 0.2], 2, None)
            .is_err());
    }

    #[test]
    fn it_joins_a_metric_set_beside_built_in_metrics() {
        let mut set = (
            crate::metrics::SparseCategoricalAccuracy::default(),
            MeanMetricWrapper::<Sparse, _>::new("top_logit", Direction::Up, |_, p| {
                p.iter().copied().fold(f32::MIN, f32::max)
            }),
        );
        MetricSet::<2, Sparse>::update_all(&mut set, &[1.0], &[0.2, 0.8], None).unwrap();
        let mut seen = Vec::new();
        MetricSet::<2, Sparse>::visit_results(&set, &mut |n, v| seen.push((n.to_string(), v)));
        assert_eq!(
            seen,
            [
                ("sparse_categorical_accuracy".to_string(), 1.0),
                ("top_logit".to_string(), 0.8)
            ]
        );
    }
}
