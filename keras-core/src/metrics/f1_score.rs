//! `keras.metrics.F1Score`.

use super::named::forward_metric_methods;
use super::{FBetaScore, FScoreAverage, Metric, MetricFn};
use crate::{target::Dense, Result};

/// The F1 score: [`FBetaScore`] with `beta = 1`, logged as `"f1_score"`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{F1Score, MetricFn};
/// let mut f1 = F1Score::default().with_threshold(Some(0.5)).unwrap();
/// let y_true = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
/// let y_pred = [0.2, 0.6, 0.7, 0.2, 0.6, 0.6, 0.6, 0.8, 0.0];
/// f1.update_state(&y_true, &y_pred, 3, None).unwrap();
/// for (g, e) in f1.result_values().iter().zip([0.5, 0.8, 0.6666667]) {
///     assert!((g - e).abs() < 1e-6);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct F1Score {
    inner: FBetaScore,
}

impl Default for F1Score {
    fn default() -> Self {
        Self {
            inner: FBetaScore::named("f1_score", 1.0),
        }
    }
}

impl F1Score {
    /// How class scores are averaged. Defaults to `FScoreAverage::None`.
    pub fn with_average(mut self, average: FScoreAverage) -> Self {
        self.inner = self.inner.with_average(average);
        self
    }

    /// `Some(t)` with `0 < t <= 1` binarises predictions as `y_pred > t`; `None` takes each
    /// row's arg-max. Defaults to `None`.
    pub fn with_threshold(mut self, threshold: Option<f32>) -> Result<Self> {
        self.inner = self.inner.with_threshold(threshold)?;
        Ok(self)
    }
}

impl MetricFn for F1Score {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn keras_config(&self) -> Option<serde_json::Value> {
        let args = self.inner.keras_args(false);
        Some(super::keras_config::object("F1Score", self.name(), args))
    }

    forward_metric_methods!(inner);
}

impl<const K: usize> Metric<K> for F1Score {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weighted_average_follows_label_support() {
        let mut f1 = F1Score::default().with_average(FScoreAverage::Weighted);
        // Class 0: two labels, both predicted (score 1); class 1: no label, never predicted (0).
        f1.update_state(&[1.0, 0.0, 1.0, 0.0], &[0.9, 0.1, 0.8, 0.2], 2, None)
            .unwrap();
        assert!((f1.result() - 1.0).abs() < 1e-6);
    }
}
