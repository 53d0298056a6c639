//! Keras's `GlobalAveragePooling2D` layer (channels-last).

use dfdx::nn::{Module, NonMutableModule, ZeroSizedModule};
use dfdx::shapes::{Const, Dim, Dtype, HasShape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::ReshapeTo;

use crate::kernels::global_pool::{try_global_avg_pool, GlobalPoolKernel};

/// Keras's `GlobalAveragePooling2D()`: the mean over height and width of channels-last images,
/// `(batch, H, W, C)` → `(batch, C)` (Keras's `keepdims=False`). No tensors.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::GlobalAveragePooling2D;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>, Const<1>, Const<2>), f32, _> =
///     dev.tensor_from_vec(vec![1.0, 10.0, 3.0, 30.0], (1, Const, Const, Const));
/// let y = GlobalAveragePooling2D.forward(x);
/// assert_eq!(y.as_vec(), vec![2.0, 20.0]);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct GlobalAveragePooling2D;

impl ZeroSizedModule for GlobalAveragePooling2D {}
impl NonMutableModule for GlobalAveragePooling2D {}

/// One op per device ([`GlobalPoolKernel`]: in `f32` the pixels summed in order, the same bits
/// on `Cpu` and `Cuda`).
impl<
        B: Dim,
        const H: usize,
        const W: usize,
        const C: usize,
        E: Dtype,
        D: GlobalPoolKernel<E>,
        T: Tape<E, D>,
    > Module<Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>> for GlobalAveragePooling2D
{
    type Output = Tensor<(B, Const<C>), E, D, T>;
    type Error = D::Err;

    fn try_forward(
        &self,
        x: Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        let (batch, _, _, _) = *x.shape();
        // The image's pixels as the steps of `(batch, H · W, C)`: the same row-major values,
        // no copy.
        try_global_avg_pool(x.try_reshape_like(&(batch, H * W, Const))?)
    }
}
