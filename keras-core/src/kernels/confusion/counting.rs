//! The arithmetic of the counts, on host slices: which predictions count ([`select`]) and how
//! they add up ([`add_direct`], [`add_bucketed`]), shared by the host metrics and the CPU kernel.

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

/// The four counts a batch adds to, `thresholds × labels` each (threshold-major).
#[derive(Debug)]
pub(crate) struct Counts<'a> {
    pub tp: &'a mut [f32],
    pub fp: &'a mut [f32],
    pub tn: &'a mut [f32],
    pub fn_: &'a mut [f32],
}

impl Counts<'_> {
    fn add(&mut self, tp: &[f32], fp: &[f32], tn: &[f32], fn_: &[f32]) {
        for (mine, batch) in [
            (&mut *self.tp, tp),
            (&mut *self.fp, fp),
            (&mut *self.tn, tn),
            (&mut *self.fn_, fn_),
        ] {
            mine.iter_mut().zip(batch).for_each(|(a, b)| *a += b);
        }
    }
}

/// One prediction after selection: label (cast to bool), prediction, weight, column.
#[derive(Debug)]
pub(crate) struct Element {
    label: bool,
    pred: f32,
    weight: Option<f32>,
    col: usize,
}

/// The plain path: compare every prediction with every threshold (`pred > threshold`), sum the
/// batch's weights per count, then add them.
pub(crate) fn add_direct(
    thresholds: &[f32],
    labels: usize,
    elements: &[Element],
    multi: bool,
    mut counts: Counts<'_>,
) {
    let n = thresholds.len() * labels;
    let (mut tp, mut fp, mut tn, mut fn_) =
        (vec![0.0f32; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]);
    for (i, &thr) in thresholds.iter().enumerate() {
        for e in elements {
            let idx = i * labels + if multi { e.col } else { 0 };
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
    counts.add(&tp, &fp, &tn, &fn_);
}

/// Keras's bucketed path for `t` evenly spaced thresholds: each prediction (clipped to
/// `[0, 1]`) lands in bucket `ceil(p (t - 1)) - 1` (`max(.., 0)` when the end points carry an
/// epsilon); counts are reverse cumulative sums of the buckets; negatives are the complements
/// of the totals.
pub(crate) fn add_bucketed(
    t: usize,
    labels: usize,
    with_eps: bool,
    elements: &[Element],
    multi: bool,
    mut counts: Counts<'_>,
) {
    let l = labels;
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
    counts.add(&tp, &fp, &tn, &fn_);
}

/// Applies `top_k`, `class_id` and the weights, in Keras's order; `map` is applied to each
/// prediction first (AUC's sigmoid from logits).
pub(crate) fn select(
    y_true: &[f32],
    y_pred: &[f32],
    cols: usize,
    sample_weight: Option<&[f32]>,
    sel: Selection<'_>,
    map: impl Fn(f32) -> f32,
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
    // The mapped row, for the top-k ranking only.
    let mut row = Vec::new();
    let mut out = Vec::with_capacity(y_pred.len());
    for (r, (t_row, p_row)) in y_true.chunks(cols).zip(y_pred.chunks(cols)).enumerate() {
        if let Some(k) = sel.top_k {
            row.clear();
            row.extend(p_row.iter().map(|&p| map(p)));
            top_k_mask(&row, k, &mut mask);
        }
        let columns = match sel.class_id {
            Some(id) => id..id + 1,
            None => 0..cols,
        };
        for c in columns {
            let pred = match sel.top_k {
                Some(_) if !mask[c] => -1e10,
                _ => map(p_row[c]),
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

/// Marks the `k` largest entries of a row in `mask` (ties go to the lower index, as
/// `jax.lax.top_k`).
pub(crate) fn top_k_mask(row: &[f32], k: usize, mask: &mut Vec<bool>) {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
    mask.clear();
    mask.resize(row.len(), false);
    for &i in order.iter().take(k) {
        mask[i] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_ties_go_to_the_lower_index() {
        let mut mask = Vec::new();
        top_k_mask(&[0.5, 0.9, 0.5, 0.5], 2, &mut mask);
        assert_eq!(mask, [true, true, false, false]);
        use crate::kernels::metric::in_top_k;
        assert!(in_top_k(&[0.5, 0.9, 0.5], 2, 2));
        assert!(!in_top_k(&[0.5, 0.9, 0.4], 2, 2));
    }
}
