//! `keras.metrics.TopKCategoricalAccuracy`.

use super::{mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn, RowMetric};
use crate::{target::Dense, Error, Result};

/// How often the class of the one-hot `y_true` is among the `KK` largest predictions: the true
/// class counts when fewer than `KK` classes have a strictly larger score (`ops.in_top_k`).
///
/// `KK` is Keras's `k` (Keras's default is 5). In a [`MetricSet`](super::MetricSet) for a
/// `K`-wide output, `KK > K` (or `KK == 0`) is a build error.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, TopKCategoricalAccuracy};
/// let mut acc = TopKCategoricalAccuracy::<1>::new().unwrap();
/// let y_true = [0.0, 0.0, 1.0, 0.0, 1.0, 0.0];
/// let y_pred = [0.1, 0.9, 0.8, 0.05, 0.95, 0.0];
/// acc.update_state(&y_true, &y_pred, 3, None).unwrap();
/// assert_eq!(acc.result(), 0.5);
/// ```
///
/// Asking for the top 5 of a 3-class output does not build:
/// ```compile_fail
/// use keras_core::metrics::{MetricSet, TopKCategoricalAccuracy};
/// use keras_core::target::Dense;
/// let mut set = (TopKCategoricalAccuracy::<5>::new().unwrap(),);
/// MetricSet::<3, Dense<3>>::update_all(&mut set, &[1.0, 0.0, 0.0], &[0.2, 0.3, 0.5], None).unwrap();
/// ```
#[derive(Debug, Clone)]
pub struct TopKCategoricalAccuracy<const KK: usize> {
    state: MeanState,
}

impl<const KK: usize> TopKCategoricalAccuracy<KK> {
    /// A new metric; `KK == 0` is an [`Error::InvalidArgument`].
    pub fn new() -> Result<Self> {
        if KK == 0 {
            return Err(Error::invalid("k", "k must be at least 1"));
        }
        Ok(Self {
            state: MeanState::default(),
        })
    }
}

impl<const KK: usize> MetricFn for TopKCategoricalAccuracy<KK> {
    fn name(&self) -> &str {
        "top_k_categorical_accuracy"
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
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| {
                RowMetric::ArgmaxInTopK { k: KK }.row(t, p)
            })
    }

    fn row_form(&self) -> Option<RowMetric> {
        Some(RowMetric::ArgmaxInTopK { k: KK })
    }

    mean_state_methods!();

    fn keras_config(&self) -> Option<serde_json::Value> {
        let args = serde_json::json!({"k": KK});
        Some(super::keras_config::object(
            "TopKCategoricalAccuracy",
            self.name(),
            args,
        ))
    }
}

impl<const K: usize, const KK: usize> Metric<K> for TopKCategoricalAccuracy<KK> {
    type Target = Dense<K>;
    const CHECK: () = assert!(KK >= 1 && KK <= K, "{}", TOP_K_RANGE);
}

/// What [`TopKCategoricalAccuracy`]'s build-time check says.
const TOP_K_RANGE: &str =
    "TopKCategoricalAccuracy<KK> needs 1 <= KK <= K, the model's output width";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_with_the_true_class_do_not_push_it_out() {
        let mut acc = TopKCategoricalAccuracy::<1>::new().unwrap();
        acc.update_state(&[0.0, 1.0], &[0.5, 0.5], 2, None).unwrap();
        assert_eq!(acc.result(), 1.0);
    }

    #[test]
    fn k_zero_is_rejected_at_construction() {
        let err = TopKCategoricalAccuracy::<0>::new();
        assert!(matches!(err, Err(Error::InvalidArgument { name: "k", .. })));
    }
}
