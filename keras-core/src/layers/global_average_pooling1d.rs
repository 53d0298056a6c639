//! Keras's `GlobalAveragePooling1D` layer (channels-last): the mean over the steps of a
//! sequence, as text models pool their token embeddings.

use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::shapes::{Const, Dim, Dtype, HasShape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::ReshapeTo;

use crate::kernels::global_pool::{try_global_avg_pool, GlobalPoolKernel};

/// Keras's `GlobalAveragePooling1D()`: the mean over the steps of channels-last sequences,
/// `(batch, steps, C)` → `(batch, C)` (Keras's `keepdims=False`, no mask). No tensors.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::GlobalAveragePooling1D;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>, Const<2>), f32, _> =
///     dev.tensor_from_vec(vec![1.0, 10.0, 3.0, 30.0], (1, Const, Const));
/// let y = GlobalAveragePooling1D.forward(x);
/// assert_eq!(y.as_vec(), vec![2.0, 20.0]);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GlobalAveragePooling1D;

impl ZeroSizedModule for GlobalAveragePooling1D {}
impl NonMutableModule for GlobalAveragePooling1D {}

/// One op per device ([`GlobalPoolKernel`]: in `f32` the steps summed in order, the same bits
/// on `Cpu` and `Cuda`).
impl<B: Dim, const L: usize, const C: usize, E: Dtype, D: GlobalPoolKernel<E>, T: Tape<E, D>>
    Module<Tensor<(B, Const<L>, Const<C>), E, D, T>> for GlobalAveragePooling1D
{
    type Output = Tensor<(B, Const<C>), E, D, T>;
    type Error = D::Err;

    fn try_forward(
        &self,
        x: Tensor<(B, Const<L>, Const<C>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        let (batch, _, _) = *x.shape();
        // The same row-major values read as `(batch, steps, C)`: no copy.
        try_global_avg_pool(x.try_reshape_like(&(batch, L, Const))?)
    }
}
