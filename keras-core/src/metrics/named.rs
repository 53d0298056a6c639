//! `Named<M>`: any metric under another log name (Keras's `name=` argument).

use super::{Metric, MetricFn};

/// Wraps a metric and reports it under `name`, as Keras's `name=` constructor argument does
/// (`MeanAbsoluteError(name="mean_absolute_error")`, `AUC(name="pr_auc")`, ...). Everything else
/// is forwarded unchanged.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanAbsoluteError, MetricFn, Named};
/// let mut mae = Named::new("mean_absolute_error", MeanAbsoluteError::default());
/// mae.update_state(&[0.0], &[2.0], 1, None).unwrap();
/// assert_eq!((mae.name(), mae.result()), ("mean_absolute_error", 2.0));
/// ```
#[derive(Debug, Clone)]
pub struct Named<M> {
    name: &'static str,
    inner: M,
}

impl<M> Named<M> {
    /// Reports `inner` as `name`.
    pub fn new(name: &'static str, inner: M) -> Self {
        Self { name, inner }
    }

    /// The wrapped metric.
    pub fn inner(&self) -> &M {
        &self.inner
    }
}

/// Every [`MetricFn`] method but `name`, forwarded to the metric in field `$inner` (for wrappers
/// that only rename or re-configure a metric).
macro_rules! forward_metric_methods {
    ($inner:ident) => {
        fn direction(&self) -> $crate::metrics::Direction {
            self.$inner.direction()
        }

        fn update_state(
            &mut self,
            y_true: &[f32],
            y_pred: &[f32],
            cols: usize,
            sample_weight: Option<&[f32]>,
        ) -> $crate::Result<()> {
            self.$inner
                .update_state(y_true, y_pred, cols, sample_weight)
        }

        fn result(&self) -> f32 {
            self.$inner.result()
        }

        fn result_values(&self) -> Vec<f32> {
            self.$inner.result_values()
        }

        fn reset_state(&mut self) {
            self.$inner.reset_state();
        }

        fn merge_state(&mut self, other: &Self) -> $crate::Result<()> {
            self.$inner.merge_state(&other.$inner)
        }

        fn state_values(&self) -> Option<Vec<f32>> {
            self.$inner.state_values()
        }

        fn load_state_values(&mut self, values: &[f32]) -> $crate::Result<()> {
            self.$inner.load_state_values(values)
        }

        fn row_form(&self) -> Option<$crate::metrics::RowMetric> {
            self.$inner.row_form()
        }

        fn confusion_form(&self) -> Option<$crate::metrics::ConfusionForm<'_>> {
            self.$inner.confusion_form()
        }

        fn column_form(&self) -> Option<$crate::metrics::ColumnForm> {
            self.$inner.column_form()
        }

        fn iou_form(&self) -> Option<$crate::metrics::IouForm> {
            self.$inner.iou_form()
        }

        fn prepare(&mut self, cols: usize) -> $crate::Result<()> {
            self.$inner.prepare(cols)
        }
    };
}

pub(crate) use forward_metric_methods;

impl<M: MetricFn> MetricFn for Named<M> {
    fn name(&self) -> &str {
        self.name
    }

    /// The inner metric's Keras object under this name; a Keras string (`"accuracy"`) names
    /// its own metric, so under another name there is none.
    fn keras_config(&self) -> Option<serde_json::Value> {
        let mut config = self.inner.keras_config()?;
        if let Some(inner) = config.get_mut("config") {
            inner["name"] = self.name.into();
            return Some(config);
        }
        (config.as_str() == Some(self.name)).then_some(config)
    }

    forward_metric_methods!(inner);
}

impl<const K: usize, M: Metric<K>> Metric<K> for Named<M> {
    type Target = M::Target;
    const CHECK: () = M::CHECK;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Direction;
    use crate::metrics::{Auc, MeanSquaredError};

    #[test]
    fn everything_but_the_name_is_forwarded() {
        let mut a = Named::new("pr_auc", Auc::new());
        let b = a.clone();
        a.merge_state(&b).unwrap();
        assert_eq!((a.name(), a.direction()), ("pr_auc", Direction::Up));
        let mut m = Named::new("mse", MeanSquaredError::default());
        m.update_state(&[0.0], &[3.0], 1, None).unwrap();
        assert_eq!((m.result(), m.inner().name()), (9.0, "mean_squared_error"));
    }
}
