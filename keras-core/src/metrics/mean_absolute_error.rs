//! `keras.metrics.MeanAbsoluteError`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `mean(|t - p|)` per row.
    ///
    /// Logged as `"mae"`, the name `compile(metrics=["mae"])` gives it. Keras's class default name
    /// is `"mean_absolute_error"`: [`MeanAbsoluteError::keras_named`] (or any name through
    /// [`Named`](super::Named)) reports it that way.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MeanAbsoluteError, MetricFn};
    /// let mut mae = MeanAbsoluteError::default();
    /// mae.update_state(&[0.0, 1.0], &[1.0, 1.0], 1, None).unwrap();
    /// assert_eq!((mae.name(), mae.result()), ("mae", 0.5));
    /// assert_eq!(MeanAbsoluteError::keras_named().name(), "mean_absolute_error");
    /// ```
    MeanAbsoluteError,
    "mae",
    Down,
    row_form = RowMetric::AbsoluteError,
    |t, p| RowMetric::AbsoluteError.row(t, p)
);

impl MeanAbsoluteError {
    /// The metric under Keras's class default name, `"mean_absolute_error"`.
    pub fn keras_named() -> super::Named<Self> {
        super::Named::new("mean_absolute_error", Self::default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn a_zero_weight_row_drops_out() {
        let mut mae = MeanAbsoluteError::default();
        mae.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert_eq!(mae.result(), 0.5);
    }
}
