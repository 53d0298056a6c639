//! The device's batch normalization, as a kernel trait (dfdx's pattern): [`BatchNormKernel`],
//! and the moving statistics a training call updates ([`Moving`]).

use dfdx::shapes::{Dtype, Rank1};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

use crate::kernels::layer_norm::Rows;

/// The moving statistics a training call updates: `moving = moving · momentum + batch ·
/// (1 - momentum)` for the mean and the (biased) variance, as Keras.
#[derive(Debug)]
pub struct Moving<'a, const C: usize, E: Dtype, D: Device<E>> {
    /// The moving mean.
    pub mean: &'a mut Tensor<Rank1<C>, E, D>,
    /// The moving variance.
    pub variance: &'a mut Tensor<Rank1<C>, E, D>,
    /// The weight of the old values.
    pub momentum: f64,
}

/// A device's batch normalization in dtype `E` over the rows of a `(rows, C)` batch, on a tape:
/// `y = (x - mean) · gamma / sqrt(var + epsilon) + beta` per feature.
///
/// Implemented for `Cpu` and `Cuda` (`cuda` feature) in `f32` by one op each way (the
/// per-feature statistics kept between the passes), and in `f64` by dfdx's ops
/// ([`batch_norm_train_with_ops`](crate::kernels::batch_norm_train_with_ops),
/// [`batch_norm_infer_with_ops`](crate::kernels::batch_norm_infer_with_ops)).
/// [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{BatchNormKernel, Moving};
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<1>), f32, _> = dev.tensor_from_vec(vec![1.0, 3.0], (2, Const));
/// let (gamma, beta) = (dev.ones(), dev.zeros());
/// let (mut mean, mut variance) = (dev.zeros(), dev.ones());
/// let moving = Moving { mean: &mut mean, variance: &mut variance, momentum: 0.5 };
/// // batch mean 2, variance 1
/// let y = Cpu::try_batch_norm_train(x, &gamma, &beta, moving, 0.0)?;
/// assert_eq!(y.as_vec(), [-1.0, 1.0]);
/// assert_eq!(mean.as_vec(), [1.0]);
/// assert_eq!(variance.as_vec(), [1.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait BatchNormKernel<E: Dtype>: Device<E> {
    /// Training: normalizes with the batch's mean and biased variance, through which the
    /// gradient flows, and updates `moving`. The result carries `x`'s tape with the op's
    /// backward registered on it.
    fn try_batch_norm_train<const C: usize, T: Tape<E, Self>>(
        x: Rows<C, E, Self, T>,
        gamma: &Tensor<Rank1<C>, E, Self>,
        beta: &Tensor<Rank1<C>, E, Self>,
        moving: Moving<'_, C, E, Self>,
        epsilon: f64,
    ) -> Result<Rows<C, E, Self, T>, Self::Err>;

    /// Inference: normalizes with the moving statistics (constants to the gradient).
    fn try_batch_norm_infer<const C: usize, T: Tape<E, Self>>(
        x: Rows<C, E, Self, T>,
        gamma: &Tensor<Rank1<C>, E, Self>,
        beta: &Tensor<Rank1<C>, E, Self>,
        moving_mean: &Tensor<Rank1<C>, E, Self>,
        moving_variance: &Tensor<Rank1<C>, E, Self>,
        epsilon: f64,
    ) -> Result<Rows<C, E, Self, T>, Self::Err>;
}
