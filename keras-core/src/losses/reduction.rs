//! Keras's loss reductions (`losses/loss.py::reduce_weighted_values`), with the gradient.

use crate::{Error, Result};

/// How per-sample losses become the value that is reported and differentiated.
///
/// Defaults to [`Reduction::SumOverBatchSize`], as in Keras.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Reduction {
    /// `sum(w * l) / l.len()`: the divisor counts samples, not weights. Keras's default.
    #[default]
    SumOverBatchSize,
    /// `sum(w * l)`.
    Sum,
    /// Same as `SumOverBatchSize` (Keras's `"mean"`).
    Mean,
    /// `sum(w * l) / sum(w)`, the sum taken over the weight array as given; without weights it
    /// equals `SumOverBatchSize`.
    MeanWithSampleWeight,
    /// No reduction: the weighted per-sample values.
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
#[derive(Debug, Clone, Copy)]
pub struct SampleWeight<'a> {
    /// The weights, row-major.
    pub values: &'a [f32],
    /// Their shape (`[B]`, `[B, 1]`, `[B, T]`, ...).
    pub shape: &'a [usize],
}

/// Expands `weight` to one weight per element of a per-sample loss array of shape `loss_shape`,
/// following Keras's rank alignment (squeeze/expand one trailing axis of size 1) and NumPy
/// broadcasting. Writes into `out` (resized to the loss's element count).
pub fn broadcast_weights(
    loss_shape: &[usize],
    weight: SampleWeight<'_>,
    out: &mut Vec<f32>,
) -> Result<()> {
    let n: usize = loss_shape.iter().product();
    let mut ws: Vec<usize> = weight.shape.to_vec();
    if ws.iter().product::<usize>() != weight.values.len() {
        return Err(Error::ShapeMismatch {
            name: "sample_weight",
            expected: format!("{} values for shape {:?}", ws.iter().product::<usize>(), ws),
            got: format!("{} values", weight.values.len()),
        });
    }
    // Keras: a weight with one more trailing axis of size 1 is squeezed against the loss, and a
    // loss with one more trailing 1-axis is squeezed against the weight.
    if ws.len() == loss_shape.len() + 1 && ws.last() == Some(&1) {
        ws.pop();
    }
    let mut ls: Vec<usize> = loss_shape.to_vec();
    if ls.len() == ws.len() + 1 && ls.last() == Some(&1) {
        ls.pop();
    }
    if ws.len() > ls.len() {
        return Err(Error::ShapeMismatch {
            name: "sample_weight",
            expected: format!("a shape that broadcasts to the per-sample loss {loss_shape:?}"),
            got: format!("{:?}", weight.shape),
        });
    }
    // NumPy broadcasting: align on the right.
    let offset = ls.len() - ws.len();
    for (i, &w) in ws.iter().enumerate() {
        let l = ls[offset + i];
        if w != l && w != 1 {
            return Err(Error::ShapeMismatch {
                name: "sample_weight",
                expected: format!("a shape that broadcasts to the per-sample loss {loss_shape:?}"),
                got: format!("{:?}", weight.shape),
            });
        }
    }
    out.clear();
    out.reserve(n);
    let rank = ls.len();
    let mut idx = vec![0usize; rank];
    for _ in 0..n {
        let mut flat = 0usize;
        for (i, &w) in ws.iter().enumerate() {
            let coord = if w == 1 { 0 } else { idx[offset + i] };
            flat = flat * w + coord;
        }
        out.push(weight.values[flat]);
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < ls[d] {
                break;
            }
            idx[d] = 0;
        }
    }
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
