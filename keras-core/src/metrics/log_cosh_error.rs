//! `keras.metrics.LogCoshError`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `mean(log(cosh(p - t)))` per row, computed as Keras does:
    /// `x + softplus(-2x) - ln 2`. Logged as `"logcosh"`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{LogCoshError, MetricFn};
    /// let mut m = LogCoshError::default();
    /// m.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
    /// assert!((m.result() - 0.10844523).abs() < 1e-7);
    /// ```
    LogCoshError,
    "logcosh",
    Down,
    row_form = RowMetric::LogCosh,
    |t, p| RowMetric::LogCosh.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn large_errors_grow_linearly() {
        let mut m = LogCoshError::default();
        m.update_state(&[0.0], &[100.0], 1, None).unwrap();
        assert!((m.result() - (100.0 - 2.0f32.ln())).abs() < 1e-4);
    }
}
