//! The softmax crossentropy and Keras's reduction of per-row losses with dfdx's ops: the
//! fallback of the fused kernels, and the reduction of every other loss's device form.

use dfdx::shapes::{Axis, Const};
use dfdx::tensor::{Merge, NoneTape, Tape, Tensor};
use dfdx::tensor_ops::{Device, SumTo, TryDiv, TryMul};

/// Keras's reduction of per-row values (times the per-row `weights`) to the loss, with dfdx's
/// ops: `sum(w · rows) / divisor`, times 0 when `divisor` is 0 (Keras's `divide_no_nan`).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::reduce_with_ops;
///
/// let dev = Cpu::default();
/// let rows: Tensor<(usize,), f32, _> = dev.tensor_from_vec(vec![1.0, 3.0], (2,));
/// let w = dev.tensor_from_vec(vec![1.0, 0.5], (2,));
/// assert_eq!(reduce_with_ops(rows, Some(w), 2.0)?.array(), 1.25);
/// # Ok::<(), CpuError>(())
/// ```
pub fn reduce_with_ops<D, T>(
    rows: Tensor<(usize,), f32, D, T>,
    weights: Option<Tensor<(usize,), f32, D>>,
    divisor: f32,
) -> Result<Tensor<(), f32, D, T>, D::Err>
where
    D: Device<f32>,
    T: Tape<f32, D> + Merge<NoneTape>,
{
    let weighted = match weights {
        Some(w) => rows.try_mul(w)?,
        None => rows,
    };
    let total = weighted.try_sum::<(), Axis<0>>()?;
    if divisor == 0.0 {
        total.try_mul(0.0f32)
    } else {
        total.try_div(divisor)
    }
}

/// The loss of [`try_softmax_crossentropy`](super::try_softmax_crossentropy) with dfdx's ops:
/// `-sum(t · log_softmax(x))` per row, reduced by [`reduce_with_ops`].
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::softmax_crossentropy_with_ops;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![0.0, 0.0], (1, Const));
/// let t = dev.tensor_from_vec(vec![1.0, 0.0], (1, Const::<2>));
/// let loss = softmax_crossentropy_with_ops(x, &t, None, 1.0)?;
/// assert!((loss.array() - std::f32::consts::LN_2).abs() < 1e-6);
/// # Ok::<(), CpuError>(())
/// ```
pub fn softmax_crossentropy_with_ops<const K: usize, D, T>(
    logits: Tensor<(usize, Const<K>), f32, D, T>,
    labels: &Tensor<(usize, Const<K>), f32, D>,
    weights: Option<&Tensor<(usize,), f32, D>>,
    divisor: f32,
) -> Result<Tensor<(), f32, D, T>, D::Err>
where
    D: Device<f32>,
    T: Tape<f32, D> + Merge<NoneTape>,
{
    let rows = logits
        .try_log_softmax::<Axis<1>>()?
        .try_mul(labels.clone())?
        .try_sum::<(usize,), Axis<1>>()?
        .try_negate()?;
    reduce_with_ops(rows, weights.cloned(), divisor)
}
