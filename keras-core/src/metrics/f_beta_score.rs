//! `keras.metrics.FBetaScore`.

use super::{inputs, keras_config, row_math::EPSILON, Direction, FScoreAverage, Metric, MetricFn};
use crate::kernels::columns::{add_columns, Sums};
use crate::kernels::{ColumnForm, ColumnSums};
use crate::{target::Dense, Error, Result};

/// The F-beta score, `(1 + b²) p r / (b² p + r)`, from per-class true positives, false
/// positives and false negatives accumulated over everything seen so far.
///
/// Predictions become 0/1 first: with a `threshold`, `y_pred > threshold`; without one, each
/// row's maximum becomes 1 (ties all become 1, and an all-zero row stays 0). Labels are used as
/// given (multi-hot rows). Keras's epsilons are kept: `p = tp / (tp + fp + 1e-7)`,
/// `r = tp / (tp + fn + 1e-7)`, `f = (1 + b²) p r / (b² p + r + 1e-7)`.
///
/// The number of classes is taken from the first batch. With `average` `None`,
/// [`result_values`](MetricFn::result_values) has one score per class and
/// [`result`](MetricFn::result) is their mean.
///
/// # Examples
/// ```
/// use keras_core::metrics::{FBetaScore, MetricFn};
/// let mut f = FBetaScore::new(2.0).unwrap().with_threshold(Some(0.5)).unwrap();
/// let y_true = [1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0, 0.0];
/// let y_pred = [0.2, 0.6, 0.7, 0.2, 0.6, 0.6, 0.6, 0.8, 0.0];
/// f.update_state(&y_true, &y_pred, 3, None).unwrap();
/// let got = f.result_values();
/// for (g, e) in got.iter().zip([0.3846154, 0.90909094, 0.8333334]) {
///     assert!((g - e).abs() < 1e-6);
/// }
/// ```
#[derive(Debug, Clone)]
pub struct FBetaScore {
    name: &'static str,
    average: FScoreAverage,
    beta: f32,
    threshold: Option<f32>,
    classes: usize,
    true_positives: Vec<f32>,
    false_positives: Vec<f32>,
    false_negatives: Vec<f32>,
    intermediate_weights: Vec<f32>,
}

impl FBetaScore {
    /// The F-beta score for `beta > 0`, per class, arg-max binarisation.
    pub fn new(beta: f32) -> Result<Self> {
        if !(beta > 0.0 && beta.is_finite()) {
            return Err(Error::invalid(
                "beta",
                format!("beta must be > 0, got {beta}"),
            ));
        }
        Ok(Self::named("fbeta_score", beta))
    }

    pub(crate) fn named(name: &'static str, beta: f32) -> Self {
        Self {
            name,
            average: FScoreAverage::None,
            beta,
            threshold: None,
            classes: 0,
            true_positives: Vec::new(),
            false_positives: Vec::new(),
            false_negatives: Vec::new(),
            intermediate_weights: Vec::new(),
        }
    }

    /// How class scores are averaged. Defaults to `FScoreAverage::None`.
    pub fn with_average(mut self, average: FScoreAverage) -> Self {
        self.average = average;
        self
    }

    /// `Some(t)` with `0 < t <= 1` binarises predictions as `y_pred > t`; `None` takes each
    /// row's arg-max. Defaults to `None`.
    pub fn with_threshold(mut self, threshold: Option<f32>) -> Result<Self> {
        if let Some(t) = threshold {
            if !(t > 0.0 && t <= 1.0) {
                return Err(Error::invalid(
                    "threshold",
                    format!("expected 0 < threshold <= 1, got {t}"),
                ));
            }
        }
        self.threshold = threshold;
        Ok(self)
    }

    fn slots(&self) -> usize {
        if self.average == FScoreAverage::Micro {
            1
        } else {
            self.classes
        }
    }

    /// Per-slot scores (one slot for micro, else one per class).
    fn scores(&self) -> Vec<f32> {
        let b2 = (self.beta as f64 * self.beta as f64) as f32;
        let one_plus_b2 = (1.0 + self.beta as f64 * self.beta as f64) as f32;
        (0..self.true_positives.len())
            .map(|i| {
                let tp = self.true_positives[i];
                let precision = tp / (tp + self.false_positives[i] + EPSILON);
                let recall = tp / (tp + self.false_negatives[i] + EPSILON);
                let mean = (precision * recall) / (b2 * precision + recall + EPSILON);
                mean * one_plus_b2
            })
            .collect()
    }
}

impl FBetaScore {
    /// Keras's `average` and `threshold` arguments (with `beta` for `FBetaScore`).
    pub(crate) fn keras_args(&self, with_beta: bool) -> serde_json::Value {
        let average = match self.average {
            FScoreAverage::None => None,
            FScoreAverage::Micro => Some("micro"),
            FScoreAverage::Macro => Some("macro"),
            FScoreAverage::Weighted => Some("weighted"),
        };
        let mut args = serde_json::json!({"average": average});
        if with_beta {
            args["beta"] = keras_config::float(self.beta);
        }
        args["threshold"] = self
            .threshold
            .map_or(serde_json::Value::Null, keras_config::float);
        args
    }
}

impl MetricFn for FBetaScore {
    fn name(&self) -> &str {
        self.name
    }

    fn keras_config(&self) -> Option<serde_json::Value> {
        Some(keras_config::object(
            "FBetaScore",
            self.name,
            self.keras_args(true),
        ))
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
        let rows = inputs::dense_rows(y_true, y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        self.prepare(cols)?;
        let sums = ColumnSums::FScore {
            threshold: self.threshold,
        };
        let n = self.slots();
        let into = Sums {
            sums: [
                &mut self.true_positives,
                &mut self.false_positives,
                &mut self.false_negatives,
                &mut self.intermediate_weights,
            ],
            samples: None,
        };
        add_columns(sums, n, y_true, y_pred, cols, sample_weight, into);
        Ok(())
    }

    /// Sizes the state for `cols` classes, as the first batch does.
    fn prepare(&mut self, cols: usize) -> Result<()> {
        if self.classes == 0 {
            self.classes = cols;
            let n = self.slots();
            for v in [
                &mut self.true_positives,
                &mut self.false_positives,
                &mut self.false_negatives,
                &mut self.intermediate_weights,
            ] {
                *v = vec![0.0; n];
            }
        } else if self.classes != cols {
            return Err(Error::ShapeMismatch {
                name: "y_pred",
                expected: format!("{} classes, as in earlier batches", self.classes),
                got: format!("{cols} classes"),
            });
        }
        Ok(())
    }

    /// The four sums per slot, after the saved state's header and class count, once the
    /// classes are known.
    fn column_form(&self) -> Option<ColumnForm> {
        (self.classes > 0).then(|| ColumnForm {
            sums: ColumnSums::FScore {
                threshold: self.threshold,
            },
            slots: self.slots(),
            offset: 7,
        })
    }

    fn result(&self) -> f32 {
        let scores = self.scores();
        if scores.is_empty() {
            return 0.0;
        }
        match self.average {
            FScoreAverage::Weighted => {
                let total: f32 = self.intermediate_weights.iter().sum();
                scores
                    .iter()
                    .zip(&self.intermediate_weights)
                    .map(|(s, w)| s * (w / (total + EPSILON)))
                    .sum()
            }
            _ => scores.iter().sum::<f32>() / scores.len() as f32,
        }
    }

    /// One score per class with `FScoreAverage::None`, else the single averaged score.
    fn result_values(&self) -> Vec<f32> {
        match self.average {
            FScoreAverage::None => self.scores(),
            _ => vec![self.result()],
        }
    }

    fn reset_state(&mut self) {
        for v in [
            &mut self.true_positives,
            &mut self.false_positives,
            &mut self.false_negatives,
            &mut self.intermediate_weights,
        ] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    fn state_values(&self) -> Option<Vec<f32>> {
        Some(super::packed_state::pack(&[
            &[self.classes as f32],
            &self.true_positives,
            &self.false_positives,
            &self.false_negatives,
            &self.intermediate_weights,
        ]))
    }

    fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
        let name = self.name;
        let parts = super::packed_state::unpack(values, 5, name)?;
        let classes = match parts[0] {
            [c] if *c >= 0.0 && c.fract() == 0.0 => *c as usize,
            _ => {
                return Err(Error::invalid(
                    "state",
                    format!("metric `{name}`: bad class count"),
                ))
            }
        };
        let mut restored = self.clone();
        restored.classes = classes;
        for (into, (from, part)) in [
            &mut restored.true_positives,
            &mut restored.false_positives,
            &mut restored.false_negatives,
            &mut restored.intermediate_weights,
        ]
        .into_iter()
        .zip(parts[1..].iter().zip([
            "true_positives",
            "false_positives",
            "false_negatives",
            "intermediate_weights",
        ])) {
            into.resize(from.len(), 0.0);
            super::packed_state::restore(into, from, name, part)?;
        }
        *self = restored;
        Ok(())
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        if other.classes == 0 {
            return Ok(());
        }
        if self.classes == 0 {
            *self = Self {
                name: self.name,
                ..other.clone()
            };
            return Ok(());
        }
        inputs::check_same("classes", &self.classes, &other.classes)?;
        inputs::check_same("average", &self.average, &other.average)?;
        for (mine, theirs) in [
            (&mut self.true_positives, &other.true_positives),
            (&mut self.false_positives, &other.false_positives),
            (&mut self.false_negatives, &other.false_negatives),
            (&mut self.intermediate_weights, &other.intermediate_weights),
        ] {
            mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b);
        }
        Ok(())
    }
}

impl<const K: usize> Metric<K> for FBetaScore {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepare_sizes_the_classes_and_refuses_another_width() {
        let mut f = FBetaScore::new(0.5).unwrap();
        assert!(f.column_form().is_none(), "classes unknown before a batch");
        f.prepare(4).unwrap();
        assert_eq!(f.column_form().map(|form| form.slots), Some(4));
        assert!(matches!(f.prepare(3), Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn arg_max_ties_all_become_positive() {
        let mut f = FBetaScore::new(1.0)
            .unwrap()
            .with_average(FScoreAverage::Micro);
        f.update_state(&[1.0, 0.0], &[0.5, 0.5], 2, None).unwrap();
        // tp = 1, fp = 1, fn = 0: p = 1/2, r = 1.
        assert!((f.result() - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn bad_beta_and_threshold_are_rejected() {
        assert!(matches!(
            FBetaScore::new(0.0),
            Err(Error::InvalidArgument { name: "beta", .. })
        ));
        let f = FBetaScore::new(1.0).unwrap();
        assert!(f.clone().with_threshold(Some(0.0)).is_err());
        assert!(f.with_threshold(Some(1.5)).is_err());
    }
}
