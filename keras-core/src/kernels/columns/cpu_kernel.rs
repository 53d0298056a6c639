//! The column sums on `Cpu`: the host metrics' own arithmetic over host slices, so the sums are
//! theirs bit for bit.

use super::{ColumnForm, ColumnSums};

/// The four sums a batch adds to, `slots` values each, and `R2Score`'s sample count.
#[derive(Debug)]
pub(crate) struct Sums<'a> {
    pub sums: [&'a mut [f32]; 4],
    pub samples: Option<&'a mut f32>,
}

/// Adds one batch (`rows × cols` predictions and dense labels, optional per-row weights) to
/// `into`: each slot's four sums over the batch, summed in `f32` row by row first, then added.
pub(crate) fn add(
    sums: ColumnSums,
    slots: usize,
    y_true: &[f32],
    y_pred: &[f32],
    cols: usize,
    weights: Option<&[f32]>,
    into: Sums<'_>,
) {
    let rows = y_pred.len() / cols.max(1);
    let weight = |r: usize| weights.map_or(1.0, |w| w[r]);
    let mut batch = [
        vec![0.0f32; slots],
        vec![0.0; slots],
        vec![0.0; slots],
        vec![0.0; slots],
    ];
    match sums {
        ColumnSums::FScore { threshold } => {
            for (r, (t_row, p_row)) in y_true.chunks(cols).zip(y_pred.chunks(cols)).enumerate() {
                let max = p_row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                for c in 0..cols {
                    let p = p_row[c];
                    let positive = match threshold {
                        Some(t) => p > t,
                        None => p >= max && p.abs() > 1e-9,
                    };
                    let (p, t) = (if positive { 1.0f32 } else { 0.0 }, t_row[c]);
                    let w = |v: f32| match weights {
                        Some(sw) => v * sw[r],
                        None => v,
                    };
                    let slot = if slots == 1 { 0 } else { c };
                    batch[0][slot] += w(p * t);
                    batch[1][slot] += w(p * (1.0 - t));
                    batch[2][slot] += w((1.0 - p) * t);
                    batch[3][slot] += w(t);
                }
            }
        }
        ColumnSums::R2 => {
            for c in 0..cols {
                let slot = if slots == 1 { 0 } else { c };
                let (mut s, mut sq, mut res, mut cnt) = (0.0f32, 0.0f32, 0.0f32, 0.0f32);
                for r in 0..rows {
                    let w = weight(r);
                    let (t, p) = (y_true[r * cols + c], y_pred[r * cols + c]);
                    let wt = t * w;
                    s += wt;
                    sq += t * wt;
                    res += (t - p) * (t - p) * w;
                    cnt += w;
                }
                batch[0][slot] += s;
                batch[1][slot] += sq;
                batch[2][slot] += res;
                batch[3][slot] += cnt;
            }
        }
    }
    let Sums { sums, samples } = into;
    for (state, batch) in sums.into_iter().zip(batch) {
        state.iter_mut().zip(batch).for_each(|(a, b)| *a += b);
    }
    if let Some(n) = samples {
        *n += (rows * cols) as f32;
    }
}

/// Adds one batch to the sums `state[form.offset..]` holds ([`add`] on the state's slices).
pub(crate) fn update(
    form: &ColumnForm,
    y_true: &[f32],
    y_pred: &[f32],
    cols: usize,
    weights: Option<&[f32]>,
    state: &mut [f32],
) {
    let n = form.slots;
    let region = &mut state[form.offset..form.offset + form.len()];
    let (a, rest) = region.split_at_mut(n);
    let (b, rest) = rest.split_at_mut(n);
    let (c, rest) = rest.split_at_mut(n);
    let (d, rest) = rest.split_at_mut(n);
    let samples = rest.first_mut();
    add(
        form.sums,
        n,
        y_true,
        y_pred,
        cols,
        weights,
        Sums {
            sums: [a, b, c, d],
            samples,
        },
    );
}
