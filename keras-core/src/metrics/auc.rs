//! `keras.metrics.AUC`.

use super::{
    confusion_counts::{ConfusionCounts, Selection},
    keras_config,
    row_math::{div_no_nan, sigmoid},
    thresholds::Thresholds,
    AucCurve, AucSummation, Direction, Metric, MetricFn,
};
use crate::{target::Dense, Error, Result};

/// The area under the ROC or precision-recall curve, approximated by a Riemann sum over a fixed
/// threshold grid (Keras's `AUC`). Logged as `"auc"`.
///
/// The default grid has `num_thresholds = 200` points `[-1e-7, 1/199, ..., 198/199, 1 + 1e-7]`;
/// an explicit list is sorted and wrapped in the same end points. Evenly spaced grids use Keras's
/// bucketed update, so results match Keras to the last bits. By default every element of
/// `y_true` / `y_pred` is one data point (flattened, optionally weighted per column by
/// `label_weights`); with [`with_multi_label`](Auc::with_multi_label) one AUC is computed per
/// column and the AUCs are averaged (weighted by `label_weights` when given). With `from_logits`,
/// predictions go through a sigmoid first.
///
/// # Examples
/// ```
/// use keras_core::metrics::{Auc, MetricFn};
/// let mut auc = Auc::new().with_num_thresholds(3).unwrap();
/// auc.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 0.5, 0.3, 0.9], 1, None).unwrap();
/// assert_eq!(auc.result(), 0.75);
/// ```
#[derive(Debug, Clone)]
pub struct Auc {
    explicit_thresholds: bool,
    curve: AucCurve,
    summation: AucSummation,
    multi_label: bool,
    label_weights: Option<Vec<f32>>,
    from_logits: bool,
    counts: ConfusionCounts,
}

impl Default for Auc {
    fn default() -> Self {
        Self::new()
    }
}

impl Auc {
    /// ROC AUC with 200 thresholds, interpolation, flattened labels.
    pub fn new() -> Self {
        Self {
            explicit_thresholds: false,
            curve: AucCurve::Roc,
            summation: AucSummation::Interpolation,
            multi_label: false,
            label_weights: None,
            from_logits: false,
            counts: ConfusionCounts::new(Thresholds::auc_grid(200), 1),
        }
    }

    /// Number of grid thresholds, at least 2 (ignored once explicit thresholds are set).
    /// Defaults to `200`.
    pub fn with_num_thresholds(mut self, num_thresholds: usize) -> Result<Self> {
        let thresholds = Thresholds::auc(num_thresholds)?;
        if !self.explicit_thresholds {
            self.counts = ConfusionCounts::new(thresholds, self.counts.labels);
        }
        Ok(self)
    }

    /// Explicit thresholds in `[0, 1]`, used instead of the grid. Defaults to `None`.
    pub fn with_thresholds(mut self, thresholds: &[f32]) -> Result<Self> {
        self.counts =
            ConfusionCounts::new(Thresholds::auc_explicit(thresholds)?, self.counts.labels);
        self.explicit_thresholds = true;
        Ok(self)
    }

    /// Which curve to integrate. Defaults to `AucCurve::Roc`.
    pub fn with_curve(mut self, curve: AucCurve) -> Self {
        self.curve = curve;
        self
    }

    /// The Riemann-sum rule. Defaults to `AucSummation::Interpolation`.
    pub fn with_summation_method(mut self, summation: AucSummation) -> Self {
        self.summation = summation;
        self
    }

    /// One AUC per label column, averaged (Keras's `multi_label=True`), for `num_labels`
    /// columns, or as many as the first batch has when `None`. `Some(0)` is an error.
    /// Defaults to off: all columns flattened into one label.
    pub fn with_multi_label(mut self, num_labels: Option<usize>) -> Result<Self> {
        if num_labels == Some(0) {
            return Err(Error::invalid(
                "num_labels",
                "num_labels must be at least 1",
            ));
        }
        self.multi_label = true;
        self.counts = ConfusionCounts::new(self.counts.thresholds.clone(), num_labels.unwrap_or(0));
        Ok(self)
    }

    /// Non-negative weights, one per label column. Defaults to `None`.
    pub fn with_label_weights(mut self, label_weights: Vec<f32>) -> Result<Self> {
        if label_weights.is_empty() || label_weights.iter().any(|w| !(*w >= 0.0 && w.is_finite())) {
            return Err(Error::invalid(
                "label_weights",
                "give one finite, non-negative weight per label column",
            ));
        }
        self.label_weights = Some(label_weights);
        Ok(self)
    }

    /// Whether `y_pred` holds logits (a sigmoid is applied first). Defaults to `false`.
    pub fn with_from_logits(mut self, from_logits: bool) -> Self {
        self.from_logits = from_logits;
        self
    }

    /// The thresholds in use (`f32`, end points included).
    pub fn thresholds(&self) -> &[f32] {
        self.counts.thresholds.values()
    }

    /// The area under each label's curve (one entry unless multi-label).
    fn by_label(&self) -> Vec<f32> {
        let c = &self.counts;
        let (t, l) = (c.thresholds.len(), c.labels);
        let at = |v: &[f32], i: usize, j: usize| v[i * l + j];
        (0..l)
            .map(|j| {
                let mut area = 0.0f32;
                for i in 0..t - 1 {
                    area += if self.curve == AucCurve::Pr
                        && self.summation == AucSummation::Interpolation
                    {
                        let (tp0, tp1) = (at(&c.tp, i, j), at(&c.tp, i + 1, j));
                        let p0 = tp0 + at(&c.fp, i, j);
                        let p1 = tp1 + at(&c.fp, i + 1, j);
                        let dtp = tp0 - tp1;
                        let slope = div_no_nan(dtp, (p0 - p1).max(0.0));
                        let intercept = tp1 - slope * p1;
                        let ratio = if p0 > 0.0 && p1 > 0.0 {
                            div_no_nan(p0, p1.max(0.0))
                        } else {
                            1.0
                        };
                        let positives = (tp1 + at(&c.fn_, i + 1, j)).max(0.0);
                        div_no_nan(slope * (dtp + intercept * ratio.ln()), positives)
                    } else {
                        let point = |i: usize| {
                            let (tp, fp) = (at(&c.tp, i, j), at(&c.fp, i, j));
                            let (tn, fn_) = (at(&c.tn, i, j), at(&c.fn_, i, j));
                            let recall = div_no_nan(tp, tp + fn_);
                            match self.curve {
                                AucCurve::Roc => (div_no_nan(fp, fp + tn), recall),
                                AucCurve::Pr => (recall, div_no_nan(tp, tp + fp)),
                            }
                        };
                        let ((x0, y0), (x1, y1)) = (point(i), point(i + 1));
                        let height = match self.summation {
                            AucSummation::Interpolation => (y0 + y1) / 2.0,
                            AucSummation::Minoring => y0.min(y1),
                            AucSummation::Majoring => y0.max(y1),
                        };
                        (x0 - x1) * height
                    };
                }
                area
            })
            .collect()
    }
}

impl MetricFn for Auc {
    fn name(&self) -> &str {
        "auc"
    }

    fn keras_config(&self) -> Option<serde_json::Value> {
        let thresholds = &self.counts.thresholds;
        let values = thresholds.values();
        let mut args = serde_json::json!({
            "num_thresholds": values.len(),
            "curve": match self.curve {
                AucCurve::Roc => "ROC",
                AucCurve::Pr => "PR",
            },
            "summation_method": match self.summation {
                AucSummation::Interpolation => "interpolation",
                AucSummation::Minoring => "minoring",
                AucSummation::Majoring => "majoring",
            },
            "multi_label": self.multi_label,
            "num_labels": (self.multi_label && self.counts.labels > 0).then_some(self.counts.labels),
            "label_weights": self.label_weights.as_deref().map(keras_config::floats),
            "from_logits": self.from_logits,
        });
        // Keras writes the thresholds between its end points unless they are its even grid.
        if !thresholds.evenly() {
            args["thresholds"] = keras_config::floats(&values[1..values.len() - 1]);
        }
        Some(keras_config::object("AUC", self.name(), args))
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
        if let (true, Some(lw)) = (self.multi_label, &self.label_weights) {
            if lw.len() != cols {
                return Err(Error::ShapeMismatch {
                    name: "label_weights",
                    expected: format!("{cols} weights, one per label column"),
                    got: format!("{} weights", lw.len()),
                });
            }
        }
        let sigmoid_pred: Vec<f32>;
        let y_pred = if self.from_logits {
            sigmoid_pred = y_pred.iter().map(|&x| sigmoid(x)).collect();
            &sigmoid_pred
        } else {
            y_pred
        };
        let sel = Selection {
            multi_label: self.multi_label,
            label_weights: self.label_weights.as_deref(),
            ..Selection::default()
        };
        self.counts.update(y_true, y_pred, cols, sample_weight, sel)
    }

    /// A multi-label state without `num_labels` takes its label columns from `cols` now.
    fn prepare(&mut self, cols: usize) -> Result<()> {
        if self.multi_label && self.counts.labels == 0 {
            self.counts = ConfusionCounts::new(self.counts.thresholds.clone(), cols);
        }
        Ok(())
    }

    fn confusion_form(&self) -> Option<crate::metrics::ConfusionForm<'_>> {
        let sel = Selection {
            multi_label: self.multi_label,
            label_weights: self.label_weights.as_deref(),
            ..Selection::default()
        };
        self.counts.device_form(sel, self.from_logits)
    }

    fn result(&self) -> f32 {
        if self.counts.labels == 0 {
            return 0.0;
        }
        let aucs = self.by_label();
        if !self.multi_label {
            return aucs[0];
        }
        match &self.label_weights {
            None => aucs.iter().sum::<f32>() / aucs.len() as f32,
            Some(lw) => {
                let weighted: f32 = aucs.iter().zip(lw).map(|(a, w)| a * w).sum();
                div_no_nan(weighted, lw.iter().sum())
            }
        }
    }

    fn reset_state(&mut self) {
        self.counts.reset();
    }

    fn state_values(&self) -> Option<Vec<f32>> {
        Some(self.counts.state_values())
    }

    fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
        let name = self.name().to_string();
        self.counts.load_state_values(values, &name)
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.counts.merge(&other.counts)
    }
}

impl<const K: usize> Metric<K> for Auc {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_multi_label_auc_sized_by_prepare_has_a_device_form_with_a_count_per_label() {
        let mut auc = Auc::new().with_multi_label(None).unwrap();
        assert!(
            auc.confusion_form().is_none(),
            "labels unknown before a batch"
        );
        auc.prepare(3).unwrap();
        let form = auc.confusion_form().expect("sized now");
        assert_eq!((form.labels, form.multi_label), (3, true));
        let mut fed = Auc::new().with_multi_label(None).unwrap();
        let (t, p) = (
            [1.0, 0.0, 1.0, 0.0, 1.0, 1.0],
            [0.9, 0.2, 0.4, 0.6, 0.7, 0.1],
        );
        fed.update_state(&t, &p, 3, None).unwrap();
        auc.update_state(&t, &p, 3, None).unwrap();
        assert_eq!(auc.result(), fed.result(), "prepare changes no result");
    }

    #[test]
    fn weights_mask_out_samples() {
        let mut auc = Auc::new().with_num_thresholds(3).unwrap();
        let (t, p) = ([0.0, 0.0, 1.0, 1.0], [0.0, 0.5, 0.3, 0.9]);
        auc.update_state(&t, &p, 1, Some(&[1.0, 0.0, 0.0, 1.0]))
            .unwrap();
        assert_eq!(auc.result(), 1.0);
    }

    #[test]
    fn multi_label_averages_the_per_column_aucs() {
        let mut auc = Auc::new().with_multi_label(None).unwrap();
        // Column 0 is perfectly ranked (AUC 1), column 1 inversely (AUC 0).
        let t = [1.0, 0.0, 0.0, 1.0];
        let p = [0.9, 0.9, 0.1, 0.1];
        auc.update_state(&t, &p, 2, None).unwrap();
        assert!((auc.result() - 0.5).abs() < 1e-6);
    }

    #[test]
    fn logits_are_squashed_first() {
        let mut a = Auc::new().with_from_logits(true);
        let mut b = Auc::new();
        a.update_state(&[0.0, 1.0, 1.0], &[-2.0, 0.5, 3.0], 1, None)
            .unwrap();
        b.update_state(&[0.0, 1.0, 1.0], &[0.1192, 0.6225, 0.9526], 1, None)
            .unwrap();
        assert!((a.result() - b.result()).abs() < 1e-6);
    }

    #[test]
    fn zero_labels_and_bad_thresholds_are_rejected() {
        assert!(matches!(
            Auc::new().with_multi_label(Some(0)),
            Err(Error::InvalidArgument {
                name: "num_labels",
                ..
            })
        ));
        assert!(Auc::new().with_num_thresholds(1).is_err());
        assert!(Auc::new().with_thresholds(&[0.2, 1.01]).is_err());
        assert!(Auc::new().with_label_weights(vec![1.0, -1.0]).is_err());
    }
}
