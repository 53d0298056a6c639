//! Two adjacent layers of a `Sequential` model run as one inference step: [`ForwardThen`].

use dfdx::nn::Module;
use dfdx::shapes::{Const, Dim, Dtype};
use dfdx::tensor::{Tape, Tensor};

use super::{Conv2D, MaxPool2D};
use crate::kernels::windows::WindowSize;
use crate::kernels::{ConvKernel, DenseActivation};

/// A layer's inference forward followed by the next layer's, as one step: the result of
/// `next.try_forward(self.try_forward(x)?)`, computed by a fused kernel where the device has one.
///
/// `#[derive(Sequential)]` calls it in the inference pass (`Module`, which `predict` and
/// `evaluate` run) for a field whose type is named `Conv2D` followed by one named `MaxPool2D`
/// or `MaxPooling2D`; the training pass (`ModuleMut`) keeps the layers apart. For `Conv2D`
/// with a `ReLU` or `Linear` activation it is the device's
/// [`ConvKernel::try_conv2d_max_pool2d`] (on `Cpu` in `f32`, the convolution's output is
/// pooled block by block in cache and never written whole); with any other activation, the two
/// forwards.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{Conv2D, ForwardThen, MaxPool2D, ReLU};
///
/// let dev = Cpu::seed_from_u64(0);
/// let conv = dev.build_module::<Conv2D<1, 4, 3, 4, 4, 1, 0, ReLU>, f32>();
/// let pool = MaxPool2D::<2, 2, 2>;
/// let x: Tensor<(usize, Const<6>, Const<6>, Const<1>), f32, _> =
///     dev.sample_normal_like(&(2, Const, Const, Const));
/// let fused = conv.try_forward_then(&pool, x.clone())?;
/// assert_eq!(fused.as_vec(), pool.forward(conv.forward(x)).as_vec());
/// # Ok::<(), CpuError>(())
/// ```
pub trait ForwardThen<Next, X> {
    /// The next layer's output.
    type Output;
    /// The error of either forward.
    type Error;

    /// `next`'s forward of this layer's forward of `x`.
    fn try_forward_then(&self, next: &Next, x: X) -> Result<Self::Output, Self::Error>;
}

impl<
        B: Dim,
        const H: usize,
        const W: usize,
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        const PK: usize,
        const POH: usize,
        const POW: usize,
        const PS: usize,
        A,
        E: Dtype,
        D: ConvKernel<E>,
        T: Tape<E, D>,
    > ForwardThen<MaxPool2D<PK, POH, POW, PS>, Tensor<(B, Const<H>, Const<W>, Const<IN>), E, D, T>>
    for Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>
where
    A: DenseActivation<
        Tensor<(B, Const<OH>, Const<OW>, Const<OUT>), E, D, T>,
        Output = Tensor<(B, Const<OH>, Const<OW>, Const<OUT>), E, D, T>,
        Error = D::Err,
    >,
{
    type Output = Tensor<(B, Const<POH>, Const<POW>, Const<OUT>), E, D, T>;
    type Error = D::Err;

    fn try_forward_then(
        &self,
        pool: &MaxPool2D<PK, POH, POW, PS>,
        x: Tensor<(B, Const<H>, Const<W>, Const<IN>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        if !A::EPILOGUE_IS_OUTPUT {
            return pool.try_forward(self.try_forward(x)?);
        }
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<H, K, S, P, OH>::CHECK;
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<W, K, S, P, OW>::CHECK;
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<OH, PK, PS, 0, POH>::CHECK;
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<OW, PK, PS, 0, POW>::CHECK;
        D::try_conv2d_max_pool2d::<B, H, W, IN, OUT, K, S, P, OH, OW, PK, PS, POH, POW, T>(
            x,
            &self.kernel,
            &self.bias,
            A::EPILOGUE,
        )
    }
}
