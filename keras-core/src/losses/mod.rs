//! Losses: Keras's loss classes, computed in `f32` exactly as Keras computes them.
//!
//! A loss is split in two traits:
//! - [`LossFn`]: the runtime part. It computes per-sample values (reducing the last axis, or
//!   every axis for [`LossAxis::All`]) and their gradient with respect to `y_pred`, on host `f32`
//!   slices. [`compute_loss`] applies the mask, sample weights and reduction, Keras's way.
//! - [`Loss<K>`]: binds a loss to a model output width `K` and a label layout
//!   ([`Target`]), so the trainer can check at build time that labels,
//!   model output and loss fit together.
//!
//! The trainer copies the model's output to the host once per step, computes the loss and its
//! gradient there, and feeds the gradient back onto dfdx's tape; or, for the losses that have a
//! [`DeviceLoss`] form (all of them) on a device whose memory
//! is not the host's (`Cuda`), computes the loss with dfdx's ops where the model runs (see
//! [`Trainer::set_loss_on_device`](crate::Trainer::set_loss_on_device)).
//!
//! Every Keras tensor loss is here: [`MeanSquaredError`], [`MeanAbsoluteError`],
//! [`MeanAbsolutePercentageError`], [`MeanSquaredLogarithmicError`], [`Huber`], [`LogCosh`],
//! [`BinaryCrossentropy`], [`BinaryFocalCrossentropy`], [`CategoricalCrossentropy`],
//! [`SparseCategoricalCrossentropy`], [`CategoricalFocalCrossentropy`], [`KLDivergence`],
//! [`Poisson`], [`Hinge`], [`SquaredHinge`], [`CategoricalHinge`], [`CosineSimilarity`],
//! [`Dice`], [`Tversky`] and [`CategoricalGeneralizedCrossEntropy`].
//!
//! Parameters that can be out of range (`label_smoothing`, `delta`, `gamma`, `alpha`, `q`, ...)
//! are checked when the loss is built and give [`Error::InvalidArgument`](crate::Error).
//! Input values are not checked: a NaN in `y_true`, `y_pred` or a sample weight propagates to
//! the loss (and a zero weight does not hide it), as in Keras.
//!
//! Keras's `axis` argument: every loss here reduces the last axis (`axis=-1`, the only value the
//! Keras golden files use); [`Dice`] and [`Tversky`] also reduce every axis ([`LossAxis::All`],
//! Keras's `axis=None`, their default).

mod binary_crossentropy;
mod binary_focal_crossentropy;
mod categorical_crossentropy;
mod categorical_focal_crossentropy;
mod categorical_generalized_cross_entropy;
mod categorical_hinge;
mod compute;
mod cosine_similarity;
mod device_loss;
mod dice;
mod elementwise;
mod hinge;
mod huber;
mod keras_config;
mod kl_divergence;
mod log_cosh;
mod loss_axis;
mod mean_absolute_error;
mod mean_absolute_percentage_error;
mod mean_squared_error;
mod mean_squared_logarithmic_error;
mod numeric;
mod poisson;
mod reduction;
mod resolved_crossentropy;
mod row_wise;
mod setters;
mod shape_alignment;
mod sparse_categorical_crossentropy;
mod squared_hinge;
mod tversky;
mod validate;

pub use binary_crossentropy::BinaryCrossentropy;
pub use binary_focal_crossentropy::BinaryFocalCrossentropy;
pub use categorical_crossentropy::CategoricalCrossentropy;
pub use categorical_focal_crossentropy::CategoricalFocalCrossentropy;
pub use categorical_generalized_cross_entropy::CategoricalGeneralizedCrossEntropy;
pub use categorical_hinge::CategoricalHinge;
pub use compute::{compute_loss, mask_weights, LossOutput, LossScratch};
pub use cosine_similarity::CosineSimilarity;
pub use device_loss::DeviceLoss;
pub use dice::Dice;
pub use hinge::Hinge;
pub use huber::Huber;
pub use kl_divergence::KLDivergence;
pub use log_cosh::LogCosh;
pub use loss_axis::LossAxis;
pub use mean_absolute_error::MeanAbsoluteError;
pub use mean_absolute_percentage_error::MeanAbsolutePercentageError;
pub use mean_squared_error::MeanSquaredError;
pub use mean_squared_logarithmic_error::MeanSquaredLogarithmicError;
pub use poisson::Poisson;
pub use reduction::{broadcast_weights, Reduction, SampleWeight};
pub use resolved_crossentropy::ResolvedCrossentropy;
pub use sparse_categorical_crossentropy::SparseCategoricalCrossentropy;
pub use squared_hinge::SquaredHinge;
pub use tversky::Tversky;

pub(crate) use numeric::sign;
pub(crate) use reduction::div_no_nan;

use crate::{target::Target, Error, Result};

/// Keras's `backend.epsilon()`.
pub const EPSILON: f32 = 1e-7;

/// The runtime half of a loss: per-sample values and gradients on host `f32` slices.
pub trait LossFn {
    /// The Keras name (`"mean_squared_error"`, ...).
    fn name(&self) -> &str;

    /// The reduction this loss was built with.
    fn reduction(&self) -> Reduction;

    /// The axes one loss value reduces. [`LossAxis::Last`] (one value per row) for every loss but
    /// [`Dice`] and [`Tversky`] built with [`LossAxis::All`].
    fn axis(&self) -> LossAxis {
        LossAxis::Last
    }

    /// Computes one value per row of `y_pred` (a row is the last axis, of length `cols`) into
    /// `values` (`y_pred.len() / cols` entries). `y_true` holds one class id per row for sparse
    /// losses, else as many values as `y_pred`. When `grad` is given (same length as `y_pred`),
    /// writes `d values[r] / d y_pred[r, c]` into it: the derivative of the computed value,
    /// 0 where a clip is active.
    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()>;

    /// This loss's [`DeviceLoss`] form, with the labels that form takes written into `labels`
    /// (`rows * cols` values: sparse class ids as one-hot rows, label smoothing applied), after
    /// the same checks of `y_true` as [`per_sample`](LossFn::per_sample). `Ok(None)` (the
    /// default), with `labels` left alone, when the loss has no such form with its options.
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        let _ = (y_true, rows, cols, labels);
        Ok(None)
    }

    /// The loss as Keras's `compile_config` serializes it (`"mean_squared_error"`, or a class
    /// with its config), for `.keras` files; `None` (the default) for a loss whose Keras form is
    /// not written.
    fn keras_config(&self) -> Option<serde_json::Value> {
        None
    }

    /// A 0/1 mask per row for entries the loss ignores (SparseCategoricalCrossentropy's
    /// `ignore_class`). Returns `false` (and leaves `mask` alone) when nothing is masked.
    fn mask(&self, _y_true: &[f32], _mask: &mut [f32]) -> bool {
        false
    }
}

/// A loss bound to a model output of width `K` and a label layout.
pub trait Loss<const K: usize>: LossFn {
    /// The labels this loss takes for a `K`-wide output.
    type Target: Target;
}

/// Checks that dense labels have as many values as the predictions.
pub(crate) fn check_dense(y_true: &[f32], y_pred: &[f32]) -> Result<()> {
    if y_true.len() != y_pred.len() {
        return Err(Error::ShapeMismatch {
            name: "y_true",
            expected: format!("{} values, as many as y_pred", y_pred.len()),
            got: format!("{} values", y_true.len()),
        });
    }
    Ok(())
}

/// Checks the buffers handed to [`LossFn::per_sample`]: `y_pred` is `values.len()` rows of
/// `cols`, and `grad`, when given, is as long as `y_pred`.
pub(crate) fn check_rows(
    y_pred: &[f32],
    cols: usize,
    values: &[f32],
    grad: Option<&[f32]>,
) -> Result<()> {
    if cols == 0 || values.len().checked_mul(cols) != Some(y_pred.len()) {
        return Err(Error::ShapeMismatch {
            name: "y_pred",
            expected: format!("{} rows of {cols} values", values.len()),
            got: format!("{} values", y_pred.len()),
        });
    }
    if let Some(g) = grad {
        if g.len() != y_pred.len() {
            return Err(Error::ShapeMismatch {
                name: "grad",
                expected: format!("{} values, as many as y_pred", y_pred.len()),
                got: format!("{} values", g.len()),
            });
        }
    }
    Ok(())
}

/// Dense labels for a [`DeviceLoss`]: `rows * cols` values, copied into `labels` (each mapped by
/// `map`, e.g. label smoothing).
pub(crate) fn dense_device_labels(
    y_true: &[f32],
    rows: usize,
    cols: usize,
    labels: &mut Vec<f32>,
) -> Result<()> {
    smoothed_device_labels(y_true, rows, cols, labels, |t| t)
}

/// `form` with its labels: the batch's dense labels checked and copied into `labels`, then
/// [`DeviceLoss::prepare_labels`]: what a dense loss's [`LossFn::device_form`] returns.
pub(crate) fn dense_device_form(
    form: DeviceLoss,
    y_true: &[f32],
    rows: usize,
    cols: usize,
    labels: &mut Vec<f32>,
) -> Result<Option<DeviceLoss>> {
    dense_device_labels(y_true, rows, cols, labels)?;
    form.prepare_labels(labels, cols);
    Ok(Some(form))
}

/// [`dense_device_labels`] with each label mapped by `map`.
pub(crate) fn smoothed_device_labels(
    y_true: &[f32],
    rows: usize,
    cols: usize,
    labels: &mut Vec<f32>,
    map: impl Fn(f32) -> f32,
) -> Result<()> {
    if Some(y_true.len()) != rows.checked_mul(cols) {
        return Err(Error::ShapeMismatch {
            name: "y_true",
            expected: format!("{rows} rows of {cols} values, as many as y_pred"),
            got: format!("{} values", y_true.len()),
        });
    }
    labels.clear();
    labels.extend(y_true.iter().map(|&t| map(t)));
    Ok(())
}

/// Checks sparse labels: one per row.
pub(crate) fn check_sparse(y_true: &[f32], rows: usize) -> Result<()> {
    if y_true.len() != rows {
        return Err(Error::ShapeMismatch {
            name: "y_true",
            expected: format!("{rows} class ids, one per row of y_pred"),
            got: format!("{} values", y_true.len()),
        });
    }
    Ok(())
}
