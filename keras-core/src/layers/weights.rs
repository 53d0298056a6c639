//! Loading flat host weights (Keras's `get_weights()` arrays, row-major) into parameter tensors.

use dfdx::shapes::{Dtype, HasShape, Shape};
use dfdx::tensor::Tensor;
use dfdx::tensor_ops::Device;

use crate::{Error, Result};

/// Checks that `data` has exactly as many values as `t` holds; `layout` describes the expected
/// layout in the error message (e.g. `"[in, out] = [4, 8]"`).
pub(crate) fn check_len<S: Shape, E: Dtype, D: Device<E>>(
    t: &Tensor<S, E, D>,
    name: &'static str,
    layout: &str,
    data: &[f32],
) -> Result<()> {
    let n = t.shape().num_elements();
    if data.len() != n {
        return Err(Error::ShapeMismatch {
            name,
            expected: format!("{n} values, row-major {layout}"),
            got: format!("{} values", data.len()),
        });
    }
    Ok(())
}

/// Copies `data` (already length-checked with [`check_len`]) into `t`, converting to `E`.
pub(crate) fn copy_f32<S: Shape, E: Dtype, D: Device<E>>(t: &mut Tensor<S, E, D>, data: &[f32]) {
    let values: Vec<E> = data
        .iter()
        .map(|&v| E::from_f32(v).unwrap_or_default())
        .collect();
    t.copy_from(&values);
}
