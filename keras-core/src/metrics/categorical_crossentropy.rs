//! `keras.metrics.CategoricalCrossentropy`.

use super::{
    crossentropy_options::crossentropy_setters, mean_state::mean_state_methods, Direction,
    MeanState, Metric, MetricFn, RowMetric,
};
use crate::{target::Dense, Result};

/// Mean over samples of `-sum(t ln p)` per row.
///
/// Labels are smoothed to `t (1 - s) + s / K`. On probabilities each row is renormalised to sum
/// to 1 and clipped to `[1e-7, 1 - 1e-7]` in `f32` before the log; with `from_logits`, `ln p` is
/// `log_softmax(y_pred)`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{CategoricalCrossentropy, MetricFn};
/// let mut cce = CategoricalCrossentropy::default();
/// let y_true = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
/// let y_pred = [0.05, 0.95, 0.0, 0.1, 0.8, 0.1];
/// cce.update_state(&y_true, &y_pred, 3, None).unwrap();
/// assert!((cce.result() - 1.1769392).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct CategoricalCrossentropy {
    from_logits: bool,
    label_smoothing: f32,
    state: MeanState,
}

impl CategoricalCrossentropy {
    crossentropy_setters!(from_logits, label_smoothing);

    /// The row function (shared with the device kernels).
    fn form(&self) -> RowMetric {
        RowMetric::CategoricalCrossentropy {
            from_logits: self.from_logits,
            label_smoothing: self.label_smoothing,
        }
    }
}

impl MetricFn for CategoricalCrossentropy {
    fn name(&self) -> &str {
        "categorical_crossentropy"
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
        let form = self.form();
        self.state
            .update_dense(y_true, y_pred, cols, sample_weight, |t, p| form.row(t, p))
    }

    fn row_form(&self) -> Option<RowMetric> {
        Some(self.form())
    }

    mean_state_methods!();

    fn keras_config(&self) -> Option<serde_json::Value> {
        let args = serde_json::json!({
            "from_logits": self.from_logits,
            "label_smoothing": super::keras_config::float(self.label_smoothing),
            "axis": -1,
        });
        Some(super::keras_config::object(
            "CategoricalCrossentropy",
            self.name(),
            args,
        ))
    }
}

impl<const K: usize> Metric<K> for CategoricalCrossentropy {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn uniform_logits_give_ln_k() {
        let mut cce = CategoricalCrossentropy::default().with_from_logits(true);
        cce.update_state(&[0.0, 0.0, 1.0, 0.0], &[0.0; 4], 4, None)
            .unwrap();
        assert!((cce.result() - 4.0f32.ln()).abs() < 1e-6);
    }

    #[test]
    fn label_smoothing_outside_the_unit_interval_is_rejected() {
        let err = CategoricalCrossentropy::default().with_label_smoothing(-0.5);
        assert!(matches!(err, Err(Error::InvalidArgument { .. })));
    }
}
