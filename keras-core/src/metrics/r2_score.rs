//! `keras.metrics.R2Score`.

use super::{inputs, Direction, Metric, MetricFn};
use crate::kernels::columns::{add_columns, Sums};
use crate::kernels::{ColumnForm, ColumnSums};
use crate::{target::Dense, Error, Result};

/// How [`R2Score`] combines the scores of the output columns (Keras's `class_aggregation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum R2Aggregation {
    /// No aggregation: one score per column (`None` in Keras).
    None,
    /// The plain mean of the column scores. Keras's default.
    #[default]
    UniformAverage,
    /// The column scores weighted by each column's total sum of squares.
    VarianceWeightedAverage,
}

/// The coefficient of determination, `1 - SS_res / SS_tot`, per output column, over everything
/// seen so far.
///
/// State per column: `sum(w t)`, `sum(w t^2)`, `sum(w (t - p)^2)` and `sum(w)`, plus the number
/// of label elements. A column with zero total variance scores 0 (Keras maps `inf` to 0). With
/// `num_regressors > 0` the adjusted score `1 - (1 - r2)(n - 1) / (n - p - 1)` is reported,
/// where `n` counts label *elements* (rows times columns, as Keras's `ops.size(y_true)`), falling
/// back to the plain score when `p >= n - 1`.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, R2Score};
/// let mut r2 = R2Score::default();
/// r2.update_state(&[1.0, 4.0, 3.0], &[2.0, 4.0, 4.0], 1, None).unwrap();
/// assert!((r2.result() - 0.57142854).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Default)]
pub struct R2Score {
    aggregation: R2Aggregation,
    num_regressors: usize,
    sum: Vec<f32>,
    squared_sum: Vec<f32>,
    total_mse: Vec<f32>,
    count: Vec<f32>,
    num_samples: f32,
}

impl R2Score {
    /// How column scores are combined. Defaults to `R2Aggregation::UniformAverage`.
    pub fn with_class_aggregation(mut self, aggregation: R2Aggregation) -> Self {
        self.aggregation = aggregation;
        self
    }

    /// Number of independent regressors, for the adjusted R². Defaults to `0` (plain R²).
    pub fn with_num_regressors(mut self, num_regressors: usize) -> Self {
        self.num_regressors = num_regressors;
        self
    }

    fn raw_scores(&self) -> (Vec<f32>, Vec<f32>) {
        let mut totals = Vec::with_capacity(self.sum.len());
        let mut raw = Vec::with_capacity(self.sum.len());
        for c in 0..self.sum.len() {
            let mean = self.sum[c] / self.count[c];
            let total = self.squared_sum[c] - self.sum[c] * mean;
            let score = 1.0 - self.total_mse[c] / total;
            totals.push(total);
            raw.push(if score.is_infinite() { 0.0 } else { score });
        }
        (totals, raw)
    }

    fn adjust(&self, r2: f32) -> f32 {
        let p = self.num_regressors as f32;
        let n = self.num_samples;
        if self.num_regressors == 0 || p >= n - 1.0 {
            return r2;
        }
        1.0 - ((1.0 - r2) * (n - 1.0)) / ((n - p) - 1.0)
    }
}

impl MetricFn for R2Score {
    fn name(&self) -> &str {
        "r2_score"
    }

    fn keras_config(&self) -> Option<serde_json::Value> {
        let aggregation = match self.aggregation {
            R2Aggregation::None => None,
            R2Aggregation::UniformAverage => Some("uniform_average"),
            R2Aggregation::VarianceWeightedAverage => Some("variance_weighted_average"),
        };
        let args = serde_json::json!({
            "class_aggregation": aggregation,
            "num_regressors": self.num_regressors,
        });
        Some(super::keras_config::object("R2Score", self.name(), args))
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
        let into = Sums {
            sums: [
                &mut self.sum,
                &mut self.squared_sum,
                &mut self.total_mse,
                &mut self.count,
            ],
            samples: Some(&mut self.num_samples),
        };
        add_columns(
            ColumnSums::R2,
            cols,
            y_true,
            y_pred,
            cols,
            sample_weight,
            into,
        );
        Ok(())
    }

    /// Sizes the state for `cols` columns, as the first batch does.
    fn prepare(&mut self, cols: usize) -> Result<()> {
        if self.sum.is_empty() {
            for v in [
                &mut self.sum,
                &mut self.squared_sum,
                &mut self.total_mse,
                &mut self.count,
            ] {
                v.resize(cols, 0.0);
            }
        } else if self.sum.len() != cols {
            return Err(Error::ShapeMismatch {
                name: "y_pred",
                expected: format!("{} columns, as in earlier batches", self.sum.len()),
                got: format!("{cols} columns"),
            });
        }
        Ok(())
    }

    /// The four sums per column after the saved state's header, then the sample count, once
    /// the columns are known.
    fn column_form(&self) -> Option<ColumnForm> {
        (!self.sum.is_empty()).then_some(ColumnForm {
            sums: ColumnSums::R2,
            slots: self.sum.len(),
            offset: 6,
        })
    }

    fn result(&self) -> f32 {
        let (totals, raw) = self.raw_scores();
        let r2 = match self.aggregation {
            R2Aggregation::UniformAverage | R2Aggregation::None => {
                raw.iter().sum::<f32>() / raw.len() as f32
            }
            R2Aggregation::VarianceWeightedAverage => {
                let weighted: f32 = totals.iter().zip(&raw).map(|(t, r)| t * r).sum();
                weighted / totals.iter().sum::<f32>()
            }
        };
        self.adjust(r2)
    }

    /// One score per column with `R2Aggregation::None`, else the single aggregated score.
    fn result_values(&self) -> Vec<f32> {
        match self.aggregation {
            R2Aggregation::None => {
                let (_, raw) = self.raw_scores();
                raw.into_iter().map(|r| self.adjust(r)).collect()
            }
            _ => vec![self.result()],
        }
    }

    fn reset_state(&mut self) {
        for v in [
            &mut self.sum,
            &mut self.squared_sum,
            &mut self.total_mse,
            &mut self.count,
        ] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
        self.num_samples = 0.0;
    }

    fn state_values(&self) -> Option<Vec<f32>> {
        Some(super::packed_state::pack(&[
            &self.sum,
            &self.squared_sum,
            &self.total_mse,
            &self.count,
            &[self.num_samples],
        ]))
    }

    fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
        let parts = super::packed_state::unpack(values, 5, "r2_score")?;
        let columns = parts[0].len();
        if parts[1..4].iter().any(|p| p.len() != columns) || parts[4].len() != 1 {
            return Err(Error::invalid(
                "state",
                "metric `r2_score`: the saved sums have different lengths",
            ));
        }
        self.sum = parts[0].to_vec();
        self.squared_sum = parts[1].to_vec();
        self.total_mse = parts[2].to_vec();
        self.count = parts[3].to_vec();
        self.num_samples = parts[4][0];
        Ok(())
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        if other.sum.is_empty() {
            return Ok(());
        }
        if self.sum.is_empty() {
            *self = Self {
                aggregation: self.aggregation,
                num_regressors: self.num_regressors,
                ..other.clone()
            };
            return Ok(());
        }
        inputs::check_same("columns", &self.sum.len(), &other.sum.len())?;
        for (mine, theirs) in [
            (&mut self.sum, &other.sum),
            (&mut self.squared_sum, &other.squared_sum),
            (&mut self.total_mse, &other.total_mse),
            (&mut self.count, &other.count),
        ] {
            mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b);
        }
        self.num_samples += other.num_samples;
        Ok(())
    }
}

impl<const K: usize> Metric<K> for R2Score {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_predictions_score_one() {
        let mut r2 = R2Score::default();
        r2.update_state(&[1.0, 2.0, 3.0, 5.0], &[1.0, 2.0, 3.0, 5.0], 2, None)
            .unwrap();
        assert_eq!(r2.result(), 1.0);
    }

    #[test]
    fn without_aggregation_each_column_reports_its_own_score() {
        let mut r2 = R2Score::default().with_class_aggregation(R2Aggregation::None);
        r2.update_state(
            &[1.0, 0.0, 4.0, 1.0, 3.0, 2.0],
            &[2.0, 0.0, 4.0, 1.0, 4.0, 2.0],
            2,
            None,
        )
        .unwrap();
        let v = r2.result_values();
        assert!((v[0] - 0.57142854).abs() < 1e-6 && v[1] == 1.0);
    }

    #[test]
    fn a_column_without_variance_scores_zero() {
        let mut r2 = R2Score::default();
        r2.update_state(&[1.0, 1.0], &[2.0, 0.0], 1, None).unwrap();
        assert_eq!(r2.result(), 0.0);
    }
}
