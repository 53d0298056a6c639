//! `keras.metrics.Poisson`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `mean(p - t ln(p + 1e-7))` per row.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{MetricFn, Poisson};
    /// let mut m = Poisson::default();
    /// m.update_state(&[0.0, 1.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0], 2, None).unwrap();
    /// assert!((m.result() - 0.49999997).abs() < 1e-7);
    /// ```
    Poisson,
    "poisson",
    Down,
    row_form = RowMetric::Poisson,
    |t, p| RowMetric::Poisson.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn zero_weight_rows_do_not_count() {
        let mut m = Poisson::default();
        m.update_state(
            &[0.0, 1.0, 0.0, 0.0],
            &[1.0, 1.0, 0.0, 0.0],
            2,
            Some(&[1.0, 0.0]),
        )
        .unwrap();
        assert!((m.result() - 0.99999994).abs() < 1e-7);
    }
}
