//! Applying a [`LossFn`] to a batch: per-sample values, mask, sample weights, reduction, gradient.
//!
//! This follows Keras's `Loss.__call__` (`losses/loss.py`): the mask becomes a weight
//! (`apply_mask`), the weight is aligned with the per-sample loss
//! (`squeeze_or_expand_to_same_rank`, then broadcasting), and `reduce_values` reduces.

use super::shape_alignment::{broadcast, squeeze_or_expand};
use super::{div_no_nan, LossAxis, LossFn, Reduction, SampleWeight};
use crate::{Error, Result};

/// Reusable buffers for [`compute_loss`], so a training step allocates nothing once warm.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanSquaredError, Reduction};
/// let mse = MeanSquaredError::default().with_reduction(Reduction::None);
/// let mut scratch = LossScratch::default();
/// compute_loss(&mse, &[0.0; 4], &[1.0, 1.0, 2.0, 2.0], &[2, 2], None, false, &mut scratch).unwrap();
/// assert_eq!(scratch.values(), &[1.0, 4.0]);
/// assert_eq!(scratch.values_shape(), &[2]);
/// ```
#[derive(Debug, Default, Clone)]
pub struct LossScratch {
    raw: Vec<f32>,
    values: Vec<f32>,
    shape: Vec<usize>,
    mask: Vec<f32>,
    weights: Vec<f32>,
    weight_shape: Vec<usize>,
    coef: Vec<f32>,
    grad: Vec<f32>,
    left: Vec<usize>,
    right: Vec<usize>,
    pairs: Vec<(usize, usize)>,
}

impl LossScratch {
    /// The weighted per-sample values of the last call (what reduction `none` returns).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The shape of [`values`](Self::values): the per-sample loss shape (`[B]`, `[B, T]`, or
    /// `[]` for a whole-batch loss), broadcast against the sample weights.
    pub fn values_shape(&self) -> &[usize] {
        &self.shape
    }

    /// The gradient of the reduced loss with respect to `y_pred` from the last call that asked
    /// for it (same layout as `y_pred`).
    pub fn grad(&self) -> &[f32] {
        &self.grad
    }
}

/// The result of [`compute_loss`].
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossOutput, LossScratch, MeanSquaredError};
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&MeanSquaredError::default(), &[0.0; 2], &[1.0, 3.0], &[2, 1], None, false, &mut scratch)
///     .unwrap();
/// assert_eq!(out, LossOutput { value: 5.0, rows: 2 });
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossOutput {
    /// The reduced loss. For [`Reduction::None`] this is the mean of the weighted values (the
    /// values themselves are in [`LossScratch::values`]).
    pub value: f32,
    /// Number of weighted loss values ([`LossScratch::values`]'s length).
    pub rows: usize,
}

/// Keras's `apply_mask` for a loss that masks rows ([`LossFn::mask`], sparse categorical
/// crossentropy's `ignore_class`): the weight each of the `rows` rows gets from the mask, into
/// `mask` (0 for a masked row; for `sum_over_batch_size` and `mean`, `rows / valid rows` for the
/// others, so that the mean stays over the valid rows). `false`, with `mask` all 1, when the
/// loss masks nothing.
///
/// # Examples
/// ```
/// use keras_core::losses::{mask_weights, SparseCategoricalCrossentropy};
/// let loss = SparseCategoricalCrossentropy::default().with_ignore_class(Some(2));
/// let mut mask = Vec::new();
/// assert!(mask_weights(&loss, &[0.0, 2.0, 1.0, 2.0], 4, &mut mask));
/// assert_eq!(mask, [2.0, 0.0, 2.0, 0.0]);
/// ```
pub fn mask_weights<L: LossFn + ?Sized>(
    loss: &L,
    y_true: &[f32],
    rows: usize,
    mask: &mut Vec<f32>,
) -> bool {
    mask.clear();
    mask.resize(rows, 1.0);
    let masked = loss.mask(y_true, mask);
    if masked
        && matches!(
            loss.reduction(),
            Reduction::SumOverBatchSize | Reduction::Mean
        )
    {
        let valid = mask.iter().filter(|&&m| m != 0.0).count();
        let factor = div_no_nan(rows as f32, valid as f32);
        for m in mask.iter_mut() {
            *m = if *m != 0.0 { factor } else { 0.0 };
        }
    }
    masked
}

/// Computes a loss on one batch as Keras's `Loss.__call__` does.
///
/// `pred_shape` is the shape of `y_pred` (its last axis is reduced by the loss, or every axis
/// for [`LossAxis::All`]). `sample_weight` may have the shape of the per-sample loss or one that
/// Keras aligns with it (`[B]`, `[B, 1]`, `[B, T]`, ...). When `want_grad` is set, the gradient
/// of the reduced value with respect to `y_pred` is left in [`LossScratch::grad`]; that needs a
/// scalar reduction.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanAbsoluteError, Reduction, SampleWeight};
/// let mae = MeanAbsoluteError::default().with_reduction(Reduction::Sum);
/// let mut scratch = LossScratch::default();
/// let weights = SampleWeight { values: &[2.0, 0.5], shape: &[2] };
/// let out = compute_loss(&mae, &[0.0, 0.0], &[1.0, -4.0], &[2, 1], Some(weights), true, &mut scratch)
///     .unwrap();
/// assert_eq!(out.value, 2.0 * 1.0 + 0.5 * 4.0);
/// assert_eq!(scratch.grad(), &[2.0, -0.5]);
/// ```
pub fn compute_loss<L: LossFn + ?Sized>(
    loss: &L,
    y_true: &[f32],
    y_pred: &[f32],
    pred_shape: &[usize],
    sample_weight: Option<SampleWeight<'_>>,
    want_grad: bool,
    scratch: &mut LossScratch,
) -> Result<LossOutput> {
    let Some((&last, row_shape)) = pred_shape.split_last() else {
        return Err(Error::ShapeMismatch {
            name: "y_pred",
            expected: "at least one axis".into(),
            got: "a scalar".into(),
        });
    };
    let numel: usize = pred_shape.iter().product();
    if numel != y_pred.len() || numel == 0 {
        return Err(Error::ShapeMismatch {
            name: "y_pred",
            expected: format!("{numel} values for shape {pred_shape:?}, at least one"),
            got: format!("{} values", y_pred.len()),
        });
    }
    let (cols, loss_shape): (usize, &[usize]) = match loss.axis() {
        LossAxis::Last => (last, row_shape),
        LossAxis::All => (numel, &[]),
    };
    let rows = numel / cols;
    let reduction = loss.reduction();
    if want_grad && reduction == Reduction::None {
        return Err(Error::invalid(
            "reduction",
            "training needs a scalar loss; use sum_over_batch_size, sum, mean or mean_with_sample_weight",
        ));
    }
    if let Some(sw) = sample_weight {
        let expected: usize = sw.shape.iter().product();
        if expected != sw.values.len() {
            return Err(Error::ShapeMismatch {
                name: "sample_weight",
                expected: format!("{expected} values for shape {:?}", sw.shape),
                got: format!("{} values", sw.values.len()),
            });
        }
    }
    let s = scratch;
    s.raw.clear();
    s.raw.resize(rows, 0.0);
    s.grad.clear();
    if want_grad {
        s.grad.resize(numel, 0.0);
    }
    loss.per_sample(
        y_true,
        y_pred,
        cols,
        &mut s.raw,
        if want_grad { Some(&mut s.grad) } else { None },
    )?;

    // Keras's `apply_mask`: the mask becomes (part of) the sample weight.
    let masked = mask_weights(loss, y_true, rows, &mut s.mask);
    let have_weight = masked || sample_weight.is_some();
    if masked {
        match sample_weight {
            Some(sw) => {
                align(loss_shape, sw.shape, s)?;
                s.weights.clear();
                s.weights
                    .extend(s.pairs.iter().map(|&(m, w)| sw.values[w] * s.mask[m]));
                s.weight_shape.clone_from(&s.shape);
            }
            None => {
                s.weights.clone_from(&s.mask);
                s.weight_shape.clear();
                s.weight_shape.extend_from_slice(loss_shape);
            }
        }
    } else if let Some(sw) = sample_weight {
        s.weights.clear();
        s.weights.extend_from_slice(sw.values);
        s.weight_shape.clear();
        s.weight_shape.extend_from_slice(sw.shape);
    }

    // values = values * sample_weight, with Keras's alignment; `coef[r]` collects the weights
    // that multiply loss entry `r` (for the gradient).
    s.coef.clear();
    s.coef.resize(rows, 0.0);
    s.values.clear();
    if have_weight {
        let weight_shape = std::mem::take(&mut s.weight_shape);
        let aligned = align(loss_shape, &weight_shape, s);
        s.weight_shape = weight_shape;
        aligned?;
        for &(r, w) in &s.pairs {
            s.values.push(s.raw[r] * s.weights[w]);
            s.coef[r] += s.weights[w];
        }
    } else {
        s.shape.clear();
        s.shape.extend_from_slice(loss_shape);
        s.values.extend_from_slice(&s.raw);
        s.coef.fill(1.0);
    }

    // Keras's `reduce_values`.
    let total: f32 = s.values.iter().sum();
    let count = s.values.len();
    let (value, divisor) = if s.shape.is_empty() {
        // A scalar loss is returned as it is, whatever the reduction.
        (s.values[0], 1.0)
    } else {
        let divisor = match reduction {
            Reduction::Sum => 1.0,
            Reduction::MeanWithSampleWeight if have_weight => s.weights.iter().sum(),
            _ => count as f32,
        };
        (div_no_nan(total, divisor), divisor)
    };
    if want_grad {
        let scale = if divisor == 0.0 { 0.0 } else { 1.0 / divisor };
        for (r, c) in s.coef.iter().enumerate() {
            let f = c * scale;
            for g in &mut s.grad[r * cols..(r + 1) * cols] {
                *g *= f;
            }
        }
    }
    Ok(LossOutput { value, rows: count })
}

/// Aligns the per-sample loss shape with a weight shape as Keras does and broadcasts them,
/// leaving the result shape in `s.shape` and the (loss, weight) index pairs in `s.pairs`.
fn align(loss_shape: &[usize], weight_shape: &[usize], s: &mut LossScratch) -> Result<()> {
    s.left.clear();
    s.left.extend_from_slice(loss_shape);
    s.right.clear();
    s.right.extend_from_slice(weight_shape);
    squeeze_or_expand(&mut s.left, &mut s.right);
    if broadcast(&s.left, &s.right, &mut s.shape, &mut s.pairs) {
        Ok(())
    } else {
        Err(Error::ShapeMismatch {
            name: "sample_weight",
            expected: format!("a shape that broadcasts to the per-sample loss {loss_shape:?}"),
            got: format!("{weight_shape:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::{MeanSquaredError, SparseCategoricalCrossentropy};

    #[test]
    fn a_column_weight_on_a_sequence_loss_divides_by_the_sum_of_the_column() {
        let mse = MeanSquaredError::default().with_reduction(Reduction::MeanWithSampleWeight);
        let mut s = LossScratch::default();
        // Per-sample loss [2, 2] = [[1, 4], [9, 16]]; weights [2, 1] = [1, 3].
        let y_pred = [1.0, 2.0, 3.0, 4.0];
        let weights = SampleWeight {
            values: &[1.0, 3.0],
            shape: &[2, 1],
        };
        let out = compute_loss(
            &mse,
            &[0.0; 4],
            &y_pred,
            &[2, 2, 1],
            Some(weights),
            false,
            &mut s,
        )
        .unwrap();
        assert_eq!(out.value, (1.0 + 4.0 + 27.0 + 48.0) / 4.0);
        assert_eq!(s.values_shape(), &[2, 2]);
    }

    #[test]
    fn ignored_rows_leave_the_mean_over_the_valid_ones() {
        let loss = SparseCategoricalCrossentropy::default()
            .with_from_logits(true)
            .with_ignore_class(Some(-1));
        let mut s = LossScratch::default();
        let out = compute_loss(
            &loss,
            &[0.0, -1.0],
            &[0.0, 0.0, 5.0, 1.0],
            &[2, 2],
            None,
            true,
            &mut s,
        )
        .unwrap();
        assert!((out.value - std::f32::consts::LN_2).abs() < 1e-6);
        assert_eq!(&s.grad()[2..], &[0.0, 0.0]);
        assert!((s.grad()[0] + 0.5).abs() < 1e-6);
    }

    #[test]
    fn training_with_reduction_none_is_refused() {
        let mse = MeanSquaredError::default().with_reduction(Reduction::None);
        let mut s = LossScratch::default();
        let err = compute_loss(&mse, &[0.0], &[1.0], &[1, 1], None, true, &mut s).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                name: "reduction",
                ..
            }
        ));
    }

    #[test]
    fn weights_that_do_not_broadcast_are_a_shape_error() {
        let mse = MeanSquaredError::default();
        let mut s = LossScratch::default();
        let weights = SampleWeight {
            values: &[1.0; 3],
            shape: &[3],
        };
        let err = compute_loss(
            &mse,
            &[0.0; 4],
            &[0.0; 4],
            &[2, 2],
            Some(weights),
            false,
            &mut s,
        )
        .unwrap_err();
        assert!(matches!(
            err,
            Error::ShapeMismatch {
                name: "sample_weight",
                ..
            }
        ));
    }

    #[test]
    fn a_zero_weight_does_not_hide_a_nan() {
        let mse = MeanSquaredError::default();
        let mut s = LossScratch::default();
        let weights = SampleWeight {
            values: &[0.0, 1.0],
            shape: &[2],
        };
        let out = compute_loss(
            &mse,
            &[0.0; 2],
            &[f32::NAN, 1.0],
            &[2, 1],
            Some(weights),
            false,
            &mut s,
        )
        .unwrap();
        assert!(out.value.is_nan());
    }
}
