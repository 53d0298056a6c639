//! `keras.metrics.SparseTopKCategoricalAccuracy`.

use super::{
    inputs, mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn, RowMetric,
};
use crate::{target::Sparse, Error, Result};

/// How often the integer label is among the `KK` largest predictions (the label counts when fewer
/// than `KK` classes score strictly higher).
///
/// With [`with_from_sorted_ids(true)`](Self::with_from_sorted_ids), each row of `y_pred` already
/// holds class ids sorted by score and the label must appear in its first `KK` entries.
/// In a [`MetricSet`](super::MetricSet) for a `K`-wide output, `KK > K` (or `KK == 0`) is a build
/// error.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, SparseTopKCategoricalAccuracy};
/// let mut acc = SparseTopKCategoricalAccuracy::<1>::new().unwrap();
/// acc.update_state(&[2.0, 1.0], &[0.1, 0.9, 0.8, 0.05, 0.95, 0.0], 3, Some(&[0.7, 0.3]))
///     .unwrap();
/// assert!((acc.result() - 0.3).abs() < 1e-7);
/// ```
#[derive(Debug, Clone)]
pub struct SparseTopKCategoricalAccuracy<const KK: usize> {
    from_sorted_ids: bool,
    state: MeanState,
}

impl<const KK: usize> SparseTopKCategoricalAccuracy<KK> {
    /// A new metric; `KK == 0` is an [`Error::InvalidArgument`].
    pub fn new() -> Result<Self> {
        if KK == 0 {
            return Err(Error::invalid("k", "k must be at least 1"));
        }
        Ok(Self {
            from_sorted_ids: false,
            state: MeanState::default(),
        })
    }

    /// Whether `y_pred` holds class ids sorted by decreasing score instead of scores. Defaults to
    /// `false`.
    pub fn with_from_sorted_ids(mut self, from_sorted_ids: bool) -> Self {
        self.from_sorted_ids = from_sorted_ids;
        self
    }
}

impl<const KK: usize> MetricFn for SparseTopKCategoricalAccuracy<KK> {
    fn name(&self) -> &str {
        "sparse_top_k_categorical_accuracy"
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
        let sorted = self.from_sorted_ids;
        self.state
            .update_sparse(y_true, y_pred, cols, sample_weight, |r, label, p| {
                if sorted {
                    let hit = p.iter().take(KK).any(|&id| id == label);
                    Ok(if hit { 1.0 } else { 0.0 })
                } else {
                    inputs::class_index(label, r, cols)?;
                    Ok(RowMetric::LabelInTopK { k: KK }.row(&[label], p))
                }
            })
    }

    /// Scores (not sorted ids): one hit or miss per row.
    fn row_form(&self) -> Option<RowMetric> {
        (!self.from_sorted_ids).then_some(RowMetric::LabelInTopK { k: KK })
    }

    mean_state_methods!();

    fn keras_config(&self) -> Option<serde_json::Value> {
        let mut args = serde_json::json!({"k": KK});
        if self.from_sorted_ids {
            args["from_sorted_ids"] = true.into();
        }
        Some(super::keras_config::object(
            "SparseTopKCategoricalAccuracy",
            self.name(),
            args,
        ))
    }
}

impl<const K: usize, const KK: usize> Metric<K> for SparseTopKCategoricalAccuracy<KK> {
    type Target = Sparse;
    const CHECK: () = assert!(KK >= 1 && KK <= K, "{}", TOP_K_RANGE);
}

/// What [`SparseTopKCategoricalAccuracy`]'s build-time check says.
const TOP_K_RANGE: &str =
    "SparseTopKCategoricalAccuracy<KK> needs 1 <= KK <= K, the model's output width";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_ids_are_matched_in_their_first_k_entries() {
        let mut acc = SparseTopKCategoricalAccuracy::<2>::new()
            .unwrap()
            .with_from_sorted_ids(true);
        acc.update_state(&[3.0, 0.0], &[1.0, 3.0, 0.0, 2.0, 1.0, 0.0], 3, None)
            .unwrap();
        assert_eq!(acc.result(), 0.5);
    }

    #[test]
    fn a_label_outside_the_classes_is_an_error() {
        let mut acc = SparseTopKCategoricalAccuracy::<1>::new().unwrap();
        let err = acc.update_state(&[3.0], &[0.1, 0.2, 0.7], 3, None);
        assert!(matches!(err, Err(Error::ClassOutOfRange { .. })));
    }
}
