//! Keras's `update_confusion_matrix_variables`: true/false positives/negatives per threshold.

use std::borrow::Cow;

use super::{inputs, thresholds::Thresholds};
pub(crate) use crate::kernels::confusion::Selection;
use crate::kernels::confusion::{add_bucketed, add_direct, select, Counts};
use crate::kernels::{Comparison, ConfusionForm};
use crate::{Error, Result};

/// Where the counts start in [`ConfusionCounts::state_values`]: after the packed state's header
/// (the part count and five lengths) and the label count.
const COUNTS_OFFSET: usize = 7;

/// TP/FP/TN/FN accumulators, `thresholds × labels` each (threshold-major); `labels` is 1 unless
/// counting per column, and 0 while a per-column state has not seen its first batch.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ConfusionCounts {
    pub thresholds: Thresholds,
    pub labels: usize,
    pub tp: Vec<f32>,
    pub fp: Vec<f32>,
    pub tn: Vec<f32>,
    pub fn_: Vec<f32>,
}

impl ConfusionCounts {
    /// Zeroed counts for `labels` label columns (0 = decide at the first batch).
    pub(crate) fn new(thresholds: Thresholds, labels: usize) -> Self {
        let n = thresholds.len() * labels;
        Self {
            thresholds,
            labels,
            tp: vec![0.0; n],
            fp: vec![0.0; n],
            tn: vec![0.0; n],
            fn_: vec![0.0; n],
        }
    }

    /// Zeroes every count (the label count stays).
    pub(crate) fn reset(&mut self) {
        for v in [&mut self.tp, &mut self.fp, &mut self.tn, &mut self.fn_] {
            v.iter_mut().for_each(|x| *x = 0.0);
        }
    }

    /// The counts as one flat state (label count, then tp, fp, tn, fn), for a resume.
    pub(crate) fn state_values(&self) -> Vec<f32> {
        super::packed_state::pack(&[
            &[self.labels as f32],
            &self.tp,
            &self.fp,
            &self.tn,
            &self.fn_,
        ])
    }

    /// Restores [`state_values`](Self::state_values) (thresholds stay as constructed); checks
    /// every part before changing anything.
    pub(crate) fn load_state_values(&mut self, values: &[f32], metric: &str) -> Result<()> {
        let parts = super::packed_state::unpack(values, 5, metric)?;
        let labels = match parts[0] {
            [l] if *l >= 0.0 && l.fract() == 0.0 => *l as usize,
            _ => {
                return Err(Error::invalid(
                    "state",
                    format!("metric `{metric}`: bad label count"),
                ))
            }
        };
        let mut restored = Self::new(self.thresholds.clone(), labels);
        for (into, (from, part)) in [
            &mut restored.tp,
            &mut restored.fp,
            &mut restored.tn,
            &mut restored.fn_,
        ]
        .into_iter()
        .zip(parts[1..].iter().zip(["tp", "fp", "tn", "fn"]))
        {
            super::packed_state::restore(into, from, metric, part)?;
        }
        *self = restored;
        Ok(())
    }

    /// Adds another state's counts.
    pub(crate) fn merge(&mut self, other: &Self) -> Result<()> {
        inputs::check_same("thresholds", &self.thresholds, &other.thresholds)?;
        if other.labels == 0 {
            return Ok(());
        }
        if self.labels == 0 {
            *self = other.clone();
            return Ok(());
        }
        inputs::check_same("num_labels", &self.labels, &other.labels)?;
        for (mine, theirs) in [
            (&mut self.tp, &other.tp),
            (&mut self.fp, &other.fp),
            (&mut self.tn, &other.tn),
            (&mut self.fn_, &other.fn_),
        ] {
            mine.iter_mut().zip(theirs).for_each(|(a, b)| *a += b);
        }
        Ok(())
    }

    /// Accumulates one batch of `y_true` / `y_pred` rows of `cols` values.
    pub(crate) fn update(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
        sel: Selection<'_>,
    ) -> Result<()> {
        let rows = inputs::dense_rows(y_true, y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        let elements = select(y_true, y_pred, cols, sample_weight, sel, |p| p)?;
        let width = if sel.class_id.is_some() { 1 } else { cols };
        let labels = if sel.multi_label { width } else { 1 };
        if self.labels == 0 {
            *self = Self::new(self.thresholds.clone(), labels);
        } else if self.labels != labels {
            return Err(Error::ShapeMismatch {
                name: "y_pred",
                expected: format!("{} label columns", self.labels),
                got: format!("{labels} label columns"),
            });
        }
        let multi = sel.multi_label;
        let counts = Counts {
            tp: &mut self.tp,
            fp: &mut self.fp,
            tn: &mut self.tn,
            fn_: &mut self.fn_,
        };
        let thresholds = self.thresholds.values();
        match self.thresholds.evenly() {
            true => add_bucketed(
                thresholds.len(),
                labels,
                self.thresholds.with_epsilon(),
                &elements,
                multi,
                counts,
            ),
            false => add_direct(thresholds, labels, &elements, multi, counts),
        }
        Ok(())
    }

    /// The counts' update in the form the device kernels compute, once the label columns are
    /// known (a multi-label state decides them at its first batch, or at
    /// [`MetricFn::prepare`](super::MetricFn::prepare)); `from_logits` predictions go through a
    /// sigmoid first. `None` before.
    pub(crate) fn device_form<'a>(
        &'a self,
        sel: Selection<'a>,
        from_logits: bool,
    ) -> Option<ConfusionForm<'a>> {
        if self.labels == 0 {
            return None;
        }
        Some(ConfusionForm {
            thresholds: Cow::Borrowed(self.thresholds.values()),
            comparison: match self.thresholds.evenly() {
                true => Comparison::Buckets {
                    with_epsilon: self.thresholds.with_epsilon(),
                },
                false => Comparison::Above,
            },
            labels: self.labels,
            top_k: sel.top_k,
            class_id: sel.class_id,
            multi_label: sel.multi_label,
            label_weights: sel
                .label_weights
                .filter(|_| !sel.multi_label)
                .map(Cow::Borrowed),
            from_logits,
            offset: COUNTS_OFFSET,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bucketed_path_matches_strict_comparison_on_the_grid() {
        let (t, p) = ([0.0, 0.0, 1.0, 1.0], [0.0, 0.5, 0.3, 1.0]);
        let mut fast =
            ConfusionCounts::new(Thresholds::parse(Some(&[0.0, 0.5, 1.0]), false).unwrap(), 1);
        fast.update(&t, &p, 1, None, Selection::default()).unwrap();
        let mut slow = ConfusionCounts::new(
            Thresholds::parse(Some(&[0.0, 0.5, 0.999]), false).unwrap(),
            1,
        );
        slow.update(&t, &p, 1, None, Selection::default()).unwrap();
        assert_eq!(fast.tp, [2.0, 1.0, 0.0]);
        assert_eq!(fast.fp, [1.0, 0.0, 0.0]);
        assert_eq!(
            (&fast.tp[..2], &fast.tn[..2]),
            (&slow.tp[..2], &slow.tn[..2])
        );
    }

    #[test]
    fn the_device_form_points_at_the_counts_in_the_saved_state() {
        let mut c = ConfusionCounts::new(Thresholds::parse(Some(&[0.2, 0.7]), false).unwrap(), 1);
        c.update(
            &[1.0, 0.0, 1.0],
            &[0.9, 0.5, 0.1],
            1,
            None,
            Selection::default(),
        )
        .unwrap();
        let form = c.device_form(Selection::default(), false).unwrap();
        let state = c.state_values();
        let n = form.len();
        assert_eq!(&state[form.offset..form.offset + n], &c.tp[..]);
        assert_eq!(&state[form.offset + 3 * n..], &c.fn_[..]);
        let top_k = Selection {
            top_k: Some(1),
            ..Selection::default()
        };
        let form = c.device_form(top_k, false).unwrap();
        assert_eq!(form.top_k, Some(1));
        let fresh = ConfusionCounts::new(c.thresholds.clone(), 0);
        assert!(
            fresh.device_form(top_k, false).is_none(),
            "labels undecided"
        );
    }

    #[test]
    fn top_k_keeps_the_largest_predictions_only() {
        let mut c = ConfusionCounts::new(Thresholds::parse(None, true).unwrap(), 1);
        let sel = Selection {
            top_k: Some(1),
            ..Selection::default()
        };
        c.update(&[0.0, 1.0, 1.0], &[0.9, 0.5, 0.1], 3, None, sel)
            .unwrap();
        assert_eq!((c.tp[0], c.fp[0], c.fn_[0], c.tn[0]), (0.0, 1.0, 2.0, 0.0));
    }

    #[test]
    fn a_class_id_outside_the_columns_is_an_error() {
        let mut c = ConfusionCounts::new(Thresholds::parse(None, false).unwrap(), 1);
        let sel = Selection {
            class_id: Some(3),
            ..Selection::default()
        };
        assert!(c.update(&[0.0; 3], &[0.0; 3], 3, None, sel).is_err());
    }
}
