//! Keras's `update_confusion_matrix_variables`: true/false positives/negatives per threshold.

use super::{inputs, row_math::top_k_mask, thresholds::Thresholds};
use crate::{Error, Result};

/// Which part of each prediction row takes part in the counts.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Selection<'a> {
    /// Keep only the `k` largest predictions of each row (the rest become `-1e10`).
    pub top_k: Option<usize>,
    /// Count only this column.
    pub class_id: Option<usize>,
    /// Keep one count per column instead of flattening the columns together.
    pub multi_label: bool,
    /// Per-column weights, multiplied into the sample weights (flattened case only).
    pub label_weights: Option<&'a [f32]>,
}

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

/// One prediction after selection: label (cast to bool), prediction, weight, column.
struct Element {
    label: bool,
    pred: f32,
    weight: Option<f32>,
    col: usize,
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
        let elements = select(y_true, y_pred, cols, sample_weight, sel)?;
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
        if self.thresholds.evenly() {
            self.update_bucketed(&elements, multi);
        } else {
            self.update_direct(&elements, multi);
        }
        Ok(())
    }

    /// The plain path: compare every prediction with every threshold (`pred > threshold`).
    fn update_direct(&mut self, elements: &[Element], multi: bool) {
        let l = self.labels;
        let n = self.tp.len();
        let (mut tp, mut fp, mut tn, mut fn_) =
            (vec![0.0f32; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for (i, &thr) in self.thresholds.values().iter().enumerate() {
            for e in elements {
                let idx = i * l + if multi { e.col } else { 0 };
                let w = e.weight.unwrap_or(1.0);
                let pos = e.pred > thr;
                match (e.label, pos) {
                    (true, true) => tp[idx] += w,
                    (true, false) => fn_[idx] += w,
                    (false, true) => fp[idx] += w,
                    (false, false) => tn[idx] += w,
                }
            }
        }
        self.add(&tp, &fp, &tn, &fn_);
    }

    /// Keras's bucketed path for evenly spaced thresholds: each prediction (clipped to
    /// `[0, 1]`) lands in bucket `ceil(p (n - 1)) - 1` (`max(.., 0)` when the end points carry
    /// an epsilon); counts are reverse cumulative sums of the buckets; negatives are the
    /// complements of the totals.
    fn update_bucketed(&mut self, elements: &[Element], multi: bool) {
        let (t, l) = (self.thresholds.len(), self.labels);
        let with_eps = self.thresholds.with_epsilon();
        let scale = t as f32 - 1.0;
        let mut tp_bucket = vec![0.0f32; t * l];
        let mut fp_bucket = vec![0.0f32; t * l];
        let mut total_true = vec![0.0f32; l];
        let mut total_false = vec![0.0f32; l];
        for e in elements {
            let col = if multi { e.col } else { 0 };
            let w = e.weight.unwrap_or(1.0);
            let y = if e.label { 1.0f32 } else { 0.0 };
            let (true_label, false_label) = (y * w, (1.0 - y) * w);
            total_true[col] += true_label;
            total_false[col] += false_label;
            let p = e.pred.clamp(0.0, 1.0);
            let mut bucket = (p * scale).ceil() - 1.0;
            if with_eps {
                bucket = bucket.max(0.0);
            }
            if bucket >= 0.0 && (bucket as usize) < t {
                let b = bucket as usize;
                tp_bucket[b * l + col] += true_label;
                fp_bucket[b * l + col] += false_label;
            }
        }
        let n = t * l;
        let (mut tp, mut fp, mut tn, mut fn_) =
            (vec![0.0f32; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
        for col in 0..l {
            let (mut acc_tp, mut acc_fp) = (0.0f32, 0.0f32);
            for i in (0..t).rev() {
                acc_tp += tp_bucket[i * l + col];
                acc_fp += fp_bucket[i * l + col];
                tp[i * l + col] = acc_tp;
                fp[i * l + col] = acc_fp;
                tn[i * l + col] = total_false[col] - acc_fp;
                fn_[i * l + col] = total_true[col] - acc_tp;
            }
        }
        self.add(&tp, &fp, &tn, &fn_);
    }

    fn add(&mut self, tp: &[f32], fp: &[f32], tn: &[f32], fn_: &[f32]) {
        for (mine, batch) in [
            (&mut self.tp, tp),
            (&mut self.fp, fp),
            (&mut self.tn, tn),
            (&mut self.fn_, fn_),
        ] {
            mine.iter_mut().zip(batch).for_each(|(a, b)| *a += b);
        }
    }
}

/// Applies `top_k`, `class_id` and the weights, in Keras's order.
fn select(
    y_true: &[f32],
    y_pred: &[f32],
    cols: usize,
    sample_weight: Option<&[f32]>,
    sel: Selection<'_>,
) -> Result<Vec<Element>> {
    if let Some(k) = sel.top_k {
        if k > cols {
            return Err(Error::invalid(
                "top_k",
                format!("top_k = {k} is larger than the {cols} predictions per row"),
            ));
        }
    }
    if let Some(id) = sel.class_id {
        if id >= cols {
            return Err(Error::invalid(
                "class_id",
                format!("class_id = {id} is not a column of predictions with {cols} columns"),
            ));
        }
    }
    let label_weights = if sel.multi_label {
        None
    } else {
        sel.label_weights
    };
    if let Some(lw) = label_weights {
        if lw.len() != cols {
            return Err(Error::ShapeMismatch {
                name: "label_weights",
                expected: format!("{cols} weights, one per column"),
                got: format!("{} weights", lw.len()),
            });
        }
    }
    let mut mask = Vec::new();
    let mut out = Vec::with_capacity(y_pred.len());
    for (r, (t_row, p_row)) in y_true.chunks(cols).zip(y_pred.chunks(cols)).enumerate() {
        if let Some(k) = sel.top_k {
            top_k_mask(p_row, k, &mut mask);
        }
        let columns = match sel.class_id {
            Some(id) => id..id + 1,
            None => 0..cols,
        };
        for c in columns {
            let pred = match sel.top_k {
                Some(_) if !mask[c] => -1e10,
                _ => p_row[c],
            };
            let sw = sample_weight.map(|w| w[r]);
            let lw = label_weights.map(|lw| lw[c]);
            let weight = match (sw, lw) {
                (Some(s), Some(l)) => Some(s * l),
                (s, l) => s.or(l),
            };
            out.push(Element {
                label: t_row[c] != 0.0,
                pred,
                weight,
                col: if sel.class_id.is_some() { 0 } else { c },
            });
        }
    }
    Ok(out)
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
