//! Losses computed one whole row at a time (the row's value depends on all of its elements).

use super::{check_dense, check_rows};
use crate::Result;

/// Checks dense `y_true` / `y_pred`, then sets each row's value to
/// `f(y_true_row, y_pred_row, grad_row)`, where `grad_row` is the row's part of `grad` (when
/// given) for `f` to fill with `d value / d y_pred_row`.
pub(crate) fn per_row<F>(
    y_true: &[f32],
    y_pred: &[f32],
    cols: usize,
    values: &mut [f32],
    mut grad: Option<&mut [f32]>,
    mut f: F,
) -> Result<()>
where
    F: FnMut(&[f32], &[f32], Option<&mut [f32]>) -> f32,
{
    check_dense(y_true, y_pred)?;
    check_rows(y_pred, cols, values, grad.as_deref())?;
    for (r, v) in values.iter_mut().enumerate() {
        let range = r * cols..(r + 1) * cols;
        let g = grad.as_deref_mut().map(|g| &mut g[range.clone()]);
        *v = f(&y_true[range.clone()], &y_pred[range], g);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_row_gets_its_own_slices() {
        let (t, p) = ([1.0, 2.0, 3.0, 4.0], [10.0, 20.0, 30.0, 40.0]);
        let mut values = [0.0; 2];
        let mut grad = [0.0; 4];
        per_row(&t, &p, 2, &mut values, Some(&mut grad), |t, p, g| {
            if let Some(g) = g {
                g.copy_from_slice(t);
            }
            p.iter().sum()
        })
        .unwrap();
        assert_eq!(values, [30.0, 70.0]);
        assert_eq!(grad, t);
    }

    #[test]
    fn mismatched_inputs_are_rejected_before_any_row() {
        let mut values = [0.0; 1];
        let err = per_row(&[1.0], &[1.0, 2.0], 2, &mut values, None, |_, _, _| 1.0);
        assert!(err.is_err());
        assert_eq!(values, [0.0]);
    }
}
