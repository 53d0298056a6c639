//! Keras's loss reductions (`losses/loss.py::reduce_weighted_values`) and sample weights.

use super::shape_alignment::{broadcast, squeeze_or_expand};
use crate::{Error, Result};

/// How per-sample losses become the value that is reported and differentiated.
///
/// With `L` the per-sample losses times their weights (see [`compute_loss`](super::compute_loss)
/// for the alignment), as Keras's `reduce_weighted_values`. A loss that is already a scalar
/// (a whole-batch [`Dice`](super::Dice) without weights) is returned as it is by every reduction.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanAbsoluteError, Reduction, SampleWeight};
/// let (y_true, y_pred) = ([0.0; 3], [1.0, 2.0, 3.0]);
/// let w = SampleWeight { values: &[1.0, 0.0, 1.0], shape: &[3] };
/// let mut s = LossScratch::default();
/// let mut reduce = |r: Reduction| {
///     let mae = MeanAbsoluteError::default().with_reduction(r);
///     compute_loss(&mae, &y_true, &y_pred, &[3, 1], Some(w), false, &mut s).unwrap().value
/// };
/// assert_eq!(reduce(Reduction::Sum), 4.0);
/// assert_eq!(reduce(Reduction::SumOverBatchSize), 4.0 / 3.0); // zero weights still count
/// assert_eq!(reduce(Reduction::MeanWithSampleWeight), 4.0 / 2.0);
/// assert_eq!(Reduction::from_keras("mean").unwrap(), Reduction::Mean);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// `sum(L) / L.len()`: the divisor counts loss entries, not weights. Keras's default. With
    /// an `ignore_class` mask it divides by the number of valid entries.
    #[default]
    SumOverBatchSize,
    /// `sum(L)`.
    Sum,
    /// Same as `SumOverBatchSize` (Keras's `"mean"`).
    Mean,
    /// `sum(L) / sum(w)`, the sum taken over the weight array as given (so a `[B, 1]` weight on
    /// a `[B, T]` loss divides by the sum of `B` weights, as Keras does); a mask counts as a
    /// weight. Without weights or mask it equals `SumOverBatchSize`.
    MeanWithSampleWeight,
    /// No reduction: the weighted per-sample values. Cannot be trained on.
    None,
}

impl Reduction {
    /// Parses Keras's string names (`"sum_over_batch_size"`, `"sum"`, `"mean"`,
    /// `"mean_with_sample_weight"`, `"none"`).
    pub fn from_keras(name: &str) -> Result<Self> {
        Ok(match name {
            "sum_over_batch_size" => Reduction::SumOverBatchSize,
            "sum" => Reduction::Sum,
            "mean" => Reduction::Mean,
            "mean_with_sample_weight" => Reduction::MeanWithSampleWeight,
            "none" => Reduction::None,
            other => {
                return Err(Error::invalid(
                    "reduction",
                    format!("unknown reduction {other:?}; use one of sum_over_batch_size, sum, mean, mean_with_sample_weight, none"),
                ))
            }
        })
    }
}

/// Sample weights with the shape they were given in.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, MeanSquaredError, SampleWeight};
/// // One weight per sequence for a [B, T, K] prediction: shape [B, 1].
/// let w = SampleWeight { values: &[1.0, 0.5], shape: &[2, 1] };
/// let mut s = LossScratch::default();
/// compute_loss(&MeanSquaredError::default(), &[0.0; 4], &[1.0; 4], &[2, 2, 1], Some(w), false, &mut s)
///     .unwrap();
/// assert_eq!(s.values(), &[1.0, 1.0, 0.5, 0.5]);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct SampleWeight<'a> {
    /// The weights, row-major.
    pub values: &'a [f32],
    /// Their shape (`[B]`, `[B, 1]`, `[B, T]`, ...).
    pub shape: &'a [usize],
}

/// Expands `weight` to one weight per element of a per-sample loss array of shape `loss_shape`,
/// following Keras's rank alignment (squeeze/expand one trailing axis of size 1) and NumPy
/// broadcasting. Writes into `out` (resized to the loss's element count). A weight that would
/// make the result larger than the loss is a [`Error::ShapeMismatch`].
///
/// # Examples
/// ```
/// use keras_core::losses::{broadcast_weights, SampleWeight};
/// let mut out = Vec::new();
/// broadcast_weights(&[2, 3], SampleWeight { values: &[1.0, 2.0], shape: &[2, 1] }, &mut out).unwrap();
/// assert_eq!(out, [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]);
/// ```
pub fn broadcast_weights(
    loss_shape: &[usize],
    weight: SampleWeight<'_>,
    out: &mut Vec<f32>,
) -> Result<()> {
    let expected: usize = weight.shape.iter().product();
    if expected != weight.values.len() {
        return Err(Error::ShapeMismatch {
            name: "sample_weight",
            expected: format!("{expected} values for shape {:?}", weight.shape),
            got: format!("{} values", weight.values.len()),
        });
    }
    let (mut ls, mut ws) = (loss_shape.to_vec(), weight.shape.to_vec());
    squeeze_or_expand(&mut ls, &mut ws);
    let (mut shape, mut pairs) = (Vec::new(), Vec::new());
    let n: usize = loss_shape.iter().product();
    if !broadcast(&ls, &ws, &mut shape, &mut pairs) || pairs.len() != n {
        return Err(Error::ShapeMismatch {
            name: "sample_weight",
            expected: format!("a shape that broadcasts to the per-sample loss {loss_shape:?}"),
            got: format!("{:?}", weight.shape),
        });
    }
    out.clear();
    out.extend(pairs.iter().map(|&(_, w)| weight.values[w]));
    Ok(())
}

/// Divide-no-nan, as Keras reduces (0 / 0 = 0).
pub(crate) fn div_no_nan(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keras_name_parses_and_others_are_rejected() {
        for name in [
            "sum_over_batch_size",
            "sum",
            "mean",
            "mean_with_sample_weight",
            "none",
        ] {
            assert!(Reduction::from_keras(name).is_ok(), "{name}");
        }
        assert!(matches!(
            Reduction::from_keras("auto"),
            Err(Error::InvalidArgument {
                name: "reduction",
                ..
            })
        ));
    }

    #[test]
    fn a_weight_per_row_broadcasts_over_a_sequence_only_as_a_column() {
        let mut out = Vec::new();
        let w = SampleWeight {
            values: &[1.0, 2.0],
            shape: &[2],
        };
        assert!(broadcast_weights(&[2, 3], w, &mut out).is_err());
        let w = SampleWeight {
            values: &[1.0, 2.0, 3.0],
            shape: &[3],
        };
        assert!(broadcast_weights(&[2], w, &mut out).is_err());
    }

    #[test]
    fn a_trailing_unit_axis_on_the_weights_is_squeezed() {
        let mut out = Vec::new();
        let w = SampleWeight {
            values: &[1.0, 2.0],
            shape: &[2, 1],
        };
        broadcast_weights(&[2], w, &mut out).unwrap();
        assert_eq!(out, [1.0, 2.0]);
    }

    #[test]
    fn zero_over_zero_is_zero() {
        assert_eq!(div_no_nan(0.0, 0.0), 0.0);
        assert_eq!(div_no_nan(1.0, 4.0), 0.25);
    }
}
