//! The confusion counts' update on `Cpu`: the host metrics' own selection and counting over
//! host slices, so the counts are theirs bit for bit.

use super::{add_bucketed, add_direct, select, Comparison, ConfusionForm, Counts};
use crate::kernels::metric::sigmoid;
use crate::Result;

/// Adds one batch (`rows × cols` predictions and dense labels, optional per-row weights) to the
/// counts `state[form.offset..]` holds: `tp`, `fp`, `tn`, `fn`, [`ConfusionForm::len`] each.
pub(crate) fn update(
    form: &ConfusionForm<'_>,
    y_true: &[f32],
    y_pred: &[f32],
    cols: usize,
    weights: Option<&[f32]>,
    state: &mut [f32],
) -> Result<()> {
    let n = form.len();
    let elements = select(y_true, y_pred, cols, weights, form.selection(), |p| {
        if form.from_logits {
            sigmoid(p)
        } else {
            p
        }
    })?;
    let (tp, rest) = state[form.offset..form.offset + 4 * n].split_at_mut(n);
    let (fp, rest) = rest.split_at_mut(n);
    let (tn, fn_) = rest.split_at_mut(n);
    let counts = Counts { tp, fp, tn, fn_ };
    match form.comparison {
        Comparison::Above => add_direct(
            &form.thresholds,
            form.labels,
            &elements,
            form.multi_label,
            counts,
        ),
        Comparison::Buckets { with_epsilon } => add_bucketed(
            form.thresholds.len(),
            form.labels,
            with_epsilon,
            &elements,
            form.multi_label,
            counts,
        ),
    }
    Ok(())
}
