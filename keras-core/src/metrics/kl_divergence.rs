//! `keras.metrics.KLDivergence`.

use super::mean_metric_macro::mean_metric;
use super::RowMetric;

mean_metric!(
    /// Mean over samples of `sum(t ln(t / p))` per row, with `t` and `p` clipped to `[1e-7, 1]`.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{KLDivergence, MetricFn};
    /// let mut kld = KLDivergence::default();
    /// kld.update_state(&[0.0, 1.0, 0.0, 0.0], &[0.6, 0.4, 0.4, 0.6], 2, None).unwrap();
    /// assert!((kld.result() - 0.45814306).abs() < 1e-6);
    /// ```
    KLDivergence,
    "kl_divergence",
    Down,
    row_form = RowMetric::KlDivergence,
    |t, p| RowMetric::KlDivergence.row(t, p)
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn identical_distributions_diverge_by_zero() {
        let mut kld = KLDivergence::default();
        kld.update_state(&[0.25, 0.75], &[0.25, 0.75], 2, None)
            .unwrap();
        assert_eq!(kld.result(), 0.0);
    }
}
