//! `keras.metrics.SparseCategoricalCrossentropy`.

use super::crossentropy_options::crossentropy_setters;
use super::{
    inputs, mean_state::mean_state_methods, Direction, MeanState, Metric, MetricFn, RowMetric,
};
use crate::{target::Sparse, Result};

/// Mean over samples of `-ln p[label]`.
///
/// On probabilities each row is renormalised to sum to 1 and clipped to `[1e-7, 1 - 1e-7]` in
/// `f32`; with `from_logits`, `ln p` is `log_softmax(y_pred)`. Rows whose label equals
/// `ignore_class` are masked out: they get weight 0, so they count neither in the total nor in
/// the count (Keras's Keras-mask on the per-sample values).
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, SparseCategoricalCrossentropy};
/// let mut scce = SparseCategoricalCrossentropy::default();
/// let y_pred = [0.05, 0.95, 0.0, 0.1, 0.8, 0.1];
/// scce.update_state(&[1.0, 2.0], &y_pred, 3, Some(&[0.3, 0.7])).unwrap();
/// assert!((scce.result() - 1.6271976).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct SparseCategoricalCrossentropy {
    from_logits: bool,
    ignore_class: Option<i64>,
    state: MeanState,
}

impl SparseCategoricalCrossentropy {
    crossentropy_setters!(from_logits);

    /// A label to mask out. Defaults to `None`.
    pub fn with_ignore_class(mut self, ignore_class: Option<i64>) -> Self {
        self.ignore_class = ignore_class;
        self
    }

    /// The row function (shared with the device kernels).
    fn form(&self) -> RowMetric {
        RowMetric::SparseCrossentropy {
            from_logits: self.from_logits,
        }
    }
}

impl MetricFn for SparseCategoricalCrossentropy {
    fn name(&self) -> &str {
        "sparse_categorical_crossentropy"
    }

    fn direction(&self) -> Direction {
        Direction::Down
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let rows = inputs::sparse_rows(y_true, y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        let ignored = |label: f32| self.ignore_class.is_some_and(|c| label == c as f32);
        let mask: Option<Vec<f32>> = self.ignore_class.map(|_| {
            (0..rows)
                .map(|r| {
                    let w = inputs::weight_at(sample_weight, r);
                    if ignored(y_true[r]) {
                        0.0
                    } else {
                        w
                    }
                })
                .collect()
        });
        let mut values = Vec::with_capacity(rows);
        for (r, row) in y_pred.chunks(cols).enumerate() {
            if ignored(y_true[r]) {
                values.push(0.0);
                continue;
            }
            inputs::class_index(y_true[r], r, cols)?;
            values.push(self.form().row(&y_true[r..r + 1], row));
        }
        let weights = mask.as_deref().or(sample_weight);
        self.state.update(values.into_iter(), weights);
        Ok(())
    }

    /// Without `ignore_class` (whose rows weigh 0), a mean of one value per row.
    fn row_form(&self) -> Option<RowMetric> {
        self.ignore_class.is_none().then(|| self.form())
    }

    mean_state_methods!();

    fn keras_config(&self) -> Option<serde_json::Value> {
        let args = serde_json::json!({
            "from_logits": self.from_logits,
            "ignore_class": self.ignore_class,
            "axis": -1,
        });
        Some(super::keras_config::object(
            "SparseCategoricalCrossentropy",
            self.name(),
            args,
        ))
    }
}

impl<const K: usize> Metric<K> for SparseCategoricalCrossentropy {
    type Target = Sparse;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ignored_rows_leave_both_total_and_count_alone() {
        let mut scce = SparseCategoricalCrossentropy::default()
            .with_from_logits(true)
            .with_ignore_class(Some(-1));
        scce.update_state(&[0.0, -1.0], &[0.0, 0.0, 5.0, 1.0], 2, None)
            .unwrap();
        assert!((scce.result() - std::f32::consts::LN_2).abs() < 1e-6);
    }

    #[test]
    fn a_label_outside_the_classes_is_an_error() {
        let mut scce = SparseCategoricalCrossentropy::default();
        let err = scce.update_state(&[2.0], &[0.5, 0.5], 2, None);
        assert!(matches!(err, Err(crate::Error::ClassOutOfRange { .. })));
    }
}
