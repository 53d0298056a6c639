//! The `"accuracy"` string of `compile`, resolved at the type level.

use std::marker::PhantomData;

use super::{
    inputs, mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn, RowMetric,
};
use crate::{target::Target, Error, Result};

/// What Keras's `metrics=["accuracy"]` becomes, chosen from the label layout `T` (which the
/// trainer takes from the loss): sparse labels give `SparseCategoricalAccuracy`, one dense column
/// gives `BinaryAccuracy` (threshold 0.5, strict `>`), `K > 1` dense columns give
/// `CategoricalAccuracy`. Logged as `"accuracy"`, as in Keras.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, ResolvedAccuracy};
/// use keras_core::target::Sparse;
/// let mut acc = ResolvedAccuracy::<Sparse>::default();
/// acc.update_state(&[1.0], &[0.2, 0.8], 2, None).unwrap();
/// assert_eq!(acc.result(), 1.0);
/// ```
#[derive(Debug, Clone)]
pub struct ResolvedAccuracy<T: Target> {
    state: MeanState,
    _target: PhantomData<T>,
}

impl<T: Target> Default for ResolvedAccuracy<T> {
    fn default() -> Self {
        Self {
            state: MeanState::default(),
            _target: PhantomData,
        }
    }
}

impl<T: Target> ResolvedAccuracy<T> {
    /// The accuracy `"accuracy"` resolves to for `cols`-wide dense labels (or sparse ones).
    fn form(cols: usize) -> RowMetric {
        if T::SPARSE {
            RowMetric::ArgmaxIsLabel
        } else if cols == 1 {
            RowMetric::ThresholdedMatches { threshold: 0.5 }
        } else {
            RowMetric::ArgmaxesAgree
        }
    }
}

impl<T: Target> MetricFn for ResolvedAccuracy<T> {
    fn name(&self) -> &str {
        "accuracy"
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
        let rows = inputs::rows(y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        let expected = if T::SPARSE { rows } else { y_pred.len() };
        if y_true.len() != expected {
            return Err(Error::ShapeMismatch {
                name: "y_true",
                expected: format!("{expected} values"),
                got: format!("{} values", y_true.len()),
            });
        }
        let form = Self::form(cols);
        let hit = |r: usize| -> f32 {
            let row = &y_pred[r * cols..(r + 1) * cols];
            let labels = if T::SPARSE {
                &y_true[r..r + 1]
            } else {
                &y_true[r * cols..(r + 1) * cols]
            };
            form.row(labels, row)
        };
        self.state.update((0..rows).map(hit), sample_weight);
        Ok(())
    }

    fn row_form(&self) -> Option<RowMetric> {
        // Dense labels are as wide as the output (`Metric::CHECK`).
        Some(Self::form(T::WIDTH))
    }

    mean_state_methods!();

    fn keras_config(&self) -> Option<serde_json::Value> {
        Some("accuracy".into())
    }
}

/// One impl for every label layout, so `ResolvedAccuracy::default()` takes its layout from the
/// loss by inference; dense labels must be as wide as the model output (checked at build time).
impl<const K: usize, T: Target> Metric<K> for ResolvedAccuracy<T> {
    type Target = T;
    const CHECK: () = assert!(T::SPARSE || T::WIDTH == K, "{}", LABEL_WIDTH);
}

/// What [`ResolvedAccuracy`]'s build-time check says.
const LABEL_WIDTH: &str = "ResolvedAccuracy: dense labels must be as wide as the model output";

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{Dense, Sparse};

    #[test]
    fn one_dense_column_is_binary_accuracy_with_a_strict_threshold() {
        let mut acc = ResolvedAccuracy::<Dense<1>>::default();
        acc.update_state(&[1.0, 0.0, 1.0], &[0.9, 0.5, 0.5], 1, None)
            .unwrap();
        assert!((acc.result() - 2.0 / 3.0).abs() < 1e-7);
    }

    #[test]
    fn several_dense_columns_compare_arg_maxes() {
        let mut acc = ResolvedAccuracy::<Dense<3>>::default();
        acc.update_state(
            &[0.0, 0.0, 1.0, 1.0, 0.0, 0.0],
            &[0.1, 0.2, 0.7, 0.3, 0.6, 0.1],
            3,
            None,
        )
        .unwrap();
        assert_eq!((acc.name(), acc.result()), ("accuracy", 0.5));
    }

    #[test]
    fn sparse_labels_need_one_id_per_row() {
        let mut acc = ResolvedAccuracy::<Sparse>::default();
        let err = acc.update_state(&[0.0, 1.0], &[0.1, 0.9], 2, None);
        assert!(matches!(err, Err(Error::ShapeMismatch { .. })));
    }
}
