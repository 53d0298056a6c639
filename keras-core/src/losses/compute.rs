//! Applying a [`LossFn`] to a batch: per-sample values, mask, sample weights, reduction, gradient.

use super::{broadcast_weights, div_no_nan, LossFn, Reduction, SampleWeight};
use crate::{Error, Result};

/// Reusable buffers for [`compute_loss`], so a training step allocates nothing once warm.
#[derive(Debug, Default, Clone)]
pub struct LossScratch {
    values: Vec<f32>,
    weights: Vec<f32>,
    mask: Vec<f32>,
    grad: Vec<f32>,
}

impl LossScratch {
    /// The weighted per-sample values of the last call (what reduction `none` returns).
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The gradient of the reduced loss with respect to `y_pred` from the last call that asked
    /// for it (same layout as `y_pred`).
    pub fn grad(&self) -> &[f32] {
        &self.grad
    }
}

/// The result of [`compute_loss`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LossOutput {
    /// The reduced loss. For [`Reduction::None`] this is the sum-over-batch-size mean of the
    /// weighted values (the values themselves are in [`LossScratch::values`]).
    pub value: f32,
    /// Number of per-sample loss entries (rows of `y_pred`).
    pub rows: usize,
}

/// Computes a loss on one batch as Keras's `Loss.__call__` does.
///
/// `pred_shape` is the shape of `y_pred` (its last axis is reduced by the loss). When `want_grad`
/// is set, the gradient of the reduced value with respect to `y_pred` is left in
/// [`LossScratch::grad`]; that needs a scalar reduction.
pub fn compute_loss<L: LossFn + ?Sized>(
    loss: &L,
    y_true: &[f32],
    y_pred: &[f32],
    pred_shape: &[usize],
    sample_weight: Option<SampleWeight<'_>>,
    want_grad: bool,
    scratch: &mut LossScratch,
) -> Result<LossOutput> {
    let Some((&cols, loss_shape)) = pred_shape.split_last() else {
        return Err(Error::ShapeMismatch {
            name: "y_pred",
            expected: "at least one axis".into(),
            got: "a scalar".into(),
        });
    };
    let numel: usize = pred_shape.iter().product();
    if numel != y_pred.len() || cols == 0 {
        return Err(Error::ShapeMismatch {
            name: "y_pred",
            expected: format!("{numel} values for shape {pred_shape:?}"),
            got: format!("{} values", y_pred.len()),
        });
    }
    let rows = numel / cols;
    let reduction = loss.reduction();
    if want_grad && reduction == Reduction::None {
        return Err(Error::invalid(
            "reduction",
            "training needs a scalar loss; use sum_over_batch_size, sum, mean or mean_with_sample_weight",
        ));
    }
    scratch.values.clear();
    scratch.values.resize(rows, 0.0);
    if want_grad {
        scratch.grad.clear();
        scratch.grad.resize(numel, 0.0);
    }
    loss.per_sample(
        y_true,
        y_pred,
        cols,
        &mut scratch.values,
        if want_grad { Some(&mut scratch.grad) } else { None },
    )?;

    // Weights per loss entry: sample weights (broadcast) times the mask.
    scratch.mask.clear();
    scratch.mask.resize(rows, 1.0);
    let masked = loss.mask(y_true, &mut scratch.mask);
    let have_weights = sample_weight.is_some();
    if let Some(sw) = sample_weight {
        broadcast_weights(loss_shape, sw, &mut scratch.weights)?;
    } else {
        scratch.weights.clear();
        scratch.weights.resize(rows, 1.0);
    }
    let weight_sum_as_given: f32 = match sample_weight {
        Some(sw) => sw.values.iter().sum(),
        None => rows as f32,
    };
    let mut masked_weight_sum = 0.0f32;
    let mut valid = 0usize;
    if masked {
        for (w, m) in scratch.weights.iter_mut().zip(&scratch.mask) {
            *w *= m;
            masked_weight_sum += *w;
            if *m != 0.0 {
                valid += 1;
            }
        }
    }
    let mut total = 0.0f32;
    for (v, w) in scratch.values.iter_mut().zip(&scratch.weights) {
        *v *= w;
        total += *v;
    }
    let divisor = match reduction {
        Reduction::Sum => 1.0,
        Reduction::SumOverBatchSize | Reduction::Mean | Reduction::None => {
            if masked {
                valid as f32
            } else {
                rows as f32
            }
        }
        Reduction::MeanWithSampleWeight => {
            if masked {
                if have_weights {
                    masked_weight_sum
                } else {
                    valid as f32
                }
            } else {
                weight_sum_as_given
            }
        }
    };
    let value = div_no_nan(total, divisor);
    if want_grad {
        let scale = if divisor == 0.0 { 0.0 } else { 1.0 / divisor };
        for (r, w) in scratch.weights.iter().enumerate() {
            let f = w * scale;
            for g in &mut scratch.grad[r * cols..(r + 1) * cols] {
                *g *= f;
            }
        }
    }
    Ok(LossOutput { value, rows })
}
