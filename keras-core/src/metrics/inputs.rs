//! Shape checks shared by every metric's `update_state`.

use crate::{Error, Result};

/// Number of rows of a `y_pred` buffer with rows of `cols` values.
pub(crate) fn rows(y_pred: &[f32], cols: usize) -> Result<usize> {
    if y_pred.len().checked_rem(cols) != Some(0) {
        return Err(Error::ShapeMismatch {
            name: "y_pred",
            expected: format!("rows of {cols} values (cols must be at least 1)"),
            got: format!("{} values", y_pred.len()),
        });
    }
    Ok(y_pred.len() / cols)
}

/// Rows of a dense batch: `y_true` must have as many values as `y_pred`.
pub(crate) fn dense_rows(y_true: &[f32], y_pred: &[f32], cols: usize) -> Result<usize> {
    let rows = rows(y_pred, cols)?;
    if y_true.len() != y_pred.len() {
        return Err(Error::ShapeMismatch {
            name: "y_true",
            expected: format!("{} values, as many as y_pred", y_pred.len()),
            got: format!("{} values", y_true.len()),
        });
    }
    Ok(rows)
}

/// Rows of a sparse batch: `y_true` must hold one class id per row of `y_pred`.
pub(crate) fn sparse_rows(y_true: &[f32], y_pred: &[f32], cols: usize) -> Result<usize> {
    let rows = rows(y_pred, cols)?;
    if y_true.len() != rows {
        return Err(Error::ShapeMismatch {
            name: "y_true",
            expected: format!("{rows} class ids, one per row of y_pred"),
            got: format!("{} values", y_true.len()),
        });
    }
    Ok(rows)
}

/// `sample_weight`, when given, must hold one weight per row.
pub(crate) fn check_weights(sample_weight: Option<&[f32]>, rows: usize) -> Result<()> {
    match sample_weight {
        Some(w) if w.len() != rows => Err(Error::LengthMismatch {
            left: "sample_weight",
            left_len: w.len(),
            right: "y_pred",
            right_len: rows,
        }),
        _ => Ok(()),
    }
}

/// A sparse label as a class index in `0..num_classes` (truncated toward zero, as Keras's cast to
/// `int32` does).
pub(crate) fn class_index(label: f32, index: usize, num_classes: usize) -> Result<usize> {
    if label >= 0.0 && (label as usize) < num_classes {
        Ok(label as usize)
    } else {
        Err(Error::ClassOutOfRange {
            label,
            index,
            num_classes,
        })
    }
}

/// The weight of row `r` (1 when no weights are given).
pub(crate) fn weight_at(sample_weight: Option<&[f32]>, r: usize) -> f32 {
    sample_weight.map_or(1.0, |w| w[r])
}

/// Checks that a merged-in state was accumulated with the same configuration.
pub(crate) fn check_same<T: PartialEq + std::fmt::Debug>(
    name: &'static str,
    mine: &T,
    other: &T,
) -> Result<()> {
    if mine != other {
        return Err(Error::invalid(
            name,
            format!(
                "cannot merge metric states built with different `{name}`: {mine:?} vs {other:?}"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_columns_and_ragged_rows_are_shape_errors() {
        assert!(matches!(rows(&[1.0], 0), Err(Error::ShapeMismatch { .. })));
        assert!(matches!(
            rows(&[1.0, 2.0, 3.0], 2),
            Err(Error::ShapeMismatch { .. })
        ));
        assert_eq!(rows(&[], 3).unwrap(), 0);
    }

    #[test]
    fn class_ids_truncate_and_must_be_in_range() {
        assert_eq!(class_index(2.9, 0, 3).unwrap(), 2);
        assert!(matches!(
            class_index(3.0, 4, 3),
            Err(Error::ClassOutOfRange { index: 4, .. })
        ));
        assert!(class_index(-1.0, 0, 3).is_err());
    }
}
