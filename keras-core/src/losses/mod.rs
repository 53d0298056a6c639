//! Losses: Keras's loss classes, computed in `f32` exactly as Keras computes them.
//!
//! A loss is split in two traits:
//! - [`LossFn`]: the runtime part. It computes per-sample values (reducing only the last axis) and
//!   their gradient with respect to `y_pred`, on host `f32` slices. [`compute_loss`] applies the
//!   reduction and sample weights, Keras's way.
//! - [`Loss<K>`]: binds a loss to a model output width `K` and a label layout
//!   ([`Target`](crate::target::Target)), so the trainer can check at build time that labels,
//!   model output and loss fit together.
//!
//! The trainer copies the model's output to the host once per step, computes the loss and its
//! gradient there, and feeds the gradient back onto dfdx's tape.

mod compute;
mod mean_squared_error;
mod reduction;
mod sparse_categorical_crossentropy;

pub use compute::{compute_loss, LossOutput, LossScratch};
pub use mean_squared_error::MeanSquaredError;
pub use reduction::{broadcast_weights, Reduction, SampleWeight};
pub use sparse_categorical_crossentropy::SparseCategoricalCrossentropy;

pub(crate) use reduction::div_no_nan;

use crate::{target::Target, Result};

/// Keras's `backend.epsilon()`.
pub const EPSILON: f32 = 1e-7;

/// The runtime half of a loss: per-sample values and gradients on host `f32` slices.
pub trait LossFn {
    /// The Keras name (`"mean_squared_error"`, ...).
    fn name(&self) -> &str;

    /// The reduction this loss was built with.
    fn reduction(&self) -> Reduction;

    /// Computes one value per row of `y_pred` (a row is the last axis, of length `cols`) into
    /// `values` (`y_pred.len() / cols` entries). `y_true` holds one class id per row for sparse
    /// losses, else as many values as `y_pred`. When `grad` is given (same length as `y_pred`),
    /// writes `d values[r] / d y_pred[r, c]` into it.
    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()>;

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
        return Err(crate::Error::ShapeMismatch {
            name: "y_true",
            expected: format!("{} values, as many as y_pred", y_pred.len()),
            got: format!("{} values", y_true.len()),
        });
    }
    Ok(())
}
