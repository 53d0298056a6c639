//! The device's convolution, max pooling and average pooling, as a kernel trait (dfdx's pattern):
//! [`ConvKernel`].

use dfdx::shapes::{Const, Dim, Dtype, Rank1, Rank4};
use dfdx::tensor::{CopySlice, Tape, Tensor, ZerosTensor};

use crate::kernels::{DenseKernel, Epilogue};

/// A channels-last image batch `(batch, H, W, C)`.
pub type Images<B, const H: usize, const W: usize, const C: usize, E, D, T> =
    Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>;

/// A device's `Conv2D`, `MaxPooling2D` and `AveragePooling2D` forward in dtype `E`, on a tape.
///
/// Implemented for `Cpu` in `f32` by one op each (windows packed block by block straight into
/// `gemm` 0.19's products, which pick AVX-512, AVX2/FMA or scalar kernels at run time; the
/// backward recomputes the windows block by block instead of keeping them), for `Cuda` (`cuda`
/// feature) in `f32` by one op each (the windows gathered on the device for `Dense`'s fused
/// product there, gathered again in the backward), and in `f64` on both by dfdx's ops over
/// gathered windows.
/// [`KerasDevice`](crate::device::KerasDevice) requires it in `f32`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{ConvKernel, Epilogue};
///
/// let dev = Cpu::default();
/// // one 3x3 single-channel image, one 2x2 filter of ones, bias -10: 2x2 outputs
/// let x: Tensor<(usize, Const<3>, Const<3>, Const<1>), f32, _> =
///     dev.tensor_from_vec((1..=9).map(|v| v as f32).collect(), (1, Const, Const, Const));
/// let kernel: Tensor<Rank4<2, 2, 1, 1>, f32, _> = dev.ones();
/// let bias: Tensor<Rank1<1>, f32, _> = dev.tensor([-10.0]);
/// let y = Cpu::try_conv2d::<_, 3, 3, 1, 1, 2, 1, 0, 2, 2, _>(x, &kernel, &bias, Epilogue::BiasRelu)?;
/// assert_eq!(y.as_vec(), [2.0, 6.0, 14.0, 18.0]);
/// let pooled = Cpu::try_max_pool2d::<_, 2, 2, 1, 2, 2, 1, 1, _>(y.clone())?;
/// assert_eq!(pooled.as_vec(), [18.0]);
/// let averaged = Cpu::try_avg_pool2d::<_, 2, 2, 1, 2, 2, 1, 1, _>(y)?;
/// assert_eq!(averaged.as_vec(), [10.0]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait ConvKernel<E: Dtype>: DenseKernel<E> + ZerosTensor<usize> + CopySlice<usize> {
    /// `epilogue(conv(x, kernel) + bias)`: the cross-correlation of a `(batch, H, W, IN)` batch
    /// with `K x K` filters in Keras's layout `[kh, kw, in, out]`, stride `S`, zero padding `P`
    /// on every side, giving `(batch, OH, OW, OUT)`. The caller checks that `OH` and `OW`
    /// follow from `H`, `W`, `K`, `S` and `P`. The result carries the input's tape with the
    /// op's backward registered on it.
    #[allow(clippy::type_complexity)]
    fn try_conv2d<
        B: Dim,
        const H: usize,
        const W: usize,
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OH: usize,
        const OW: usize,
        T: Tape<E, Self>,
    >(
        x: Images<B, H, W, IN, E, Self, T>,
        kernel: &Tensor<Rank4<K, K, IN, OUT>, E, Self>,
        bias: &Tensor<Rank1<OUT>, E, Self>,
        epilogue: Epilogue,
    ) -> Result<Images<B, OH, OW, OUT, E, Self, T>, Self::Err>;

    /// The maximum of every `K x K` window (stride `S`, no padding) of a `(batch, H, W, C)`
    /// batch, per channel: `(batch, OH, OW, C)`. A window holding a NaN pools to NaN, as
    /// Keras's. The caller checks that `OH` and `OW` follow from `H`, `W`, `K` and `S`.
    #[allow(clippy::type_complexity)]
    fn try_max_pool2d<
        B: Dim,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const S: usize,
        const OH: usize,
        const OW: usize,
        T: Tape<E, Self>,
    >(
        x: Images<B, H, W, C, E, Self, T>,
    ) -> Result<Images<B, OH, OW, C, E, Self, T>, Self::Err>;

    /// The mean of every `K x K` window (stride `S`, no padding) of a `(batch, H, W, C)`
    /// batch, per channel: `(batch, OH, OW, C)`, each window's sum divided by `K * K` (Keras on
    /// JAX; dfdx's ops multiply by the reciprocal instead, a rounding apart). A window holding
    /// a NaN averages to NaN. The caller checks that `OH` and `OW` follow from `H`, `W`, `K`
    /// and `S`.
    #[allow(clippy::type_complexity)]
    fn try_avg_pool2d<
        B: Dim,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const S: usize,
        const OH: usize,
        const OW: usize,
        T: Tape<E, Self>,
    >(
        x: Images<B, H, W, C, E, Self, T>,
    ) -> Result<Images<B, OH, OW, C, E, Self, T>, Self::Err>;

    /// `max_pool(epilogue(conv(x, kernel) + bias))`: [`try_conv2d`](Self::try_conv2d) (`OH x
    /// OW` outputs) followed by [`try_max_pool2d`](Self::try_max_pool2d) over `PK x PK` windows
    /// of stride `PS` (`POH x POW` outputs), the result of those two calls, for a `Conv2D`
    /// whose activation is its epilogue followed by a `MaxPooling2D` in inference.
    ///
    /// By default it is those two calls. `Cpu` in `f32` overrides it for inputs without a tape
    /// (inference): the convolution's output of each block of images is pooled while it is in
    /// cache and never written whole; with a tape it makes the two calls, whose backward needs
    /// the convolution's output.
    #[allow(clippy::type_complexity)]
    fn try_conv2d_max_pool2d<
        B: Dim,
        const H: usize,
        const W: usize,
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OH: usize,
        const OW: usize,
        const PK: usize,
        const PS: usize,
        const POH: usize,
        const POW: usize,
        T: Tape<E, Self>,
    >(
        x: Images<B, H, W, IN, E, Self, T>,
        kernel: &Tensor<Rank4<K, K, IN, OUT>, E, Self>,
        bias: &Tensor<Rank1<OUT>, E, Self>,
        epilogue: Epilogue,
    ) -> Result<Images<B, POH, POW, OUT, E, Self, T>, Self::Err> {
        let y =
            Self::try_conv2d::<B, H, W, IN, OUT, K, S, P, OH, OW, T>(x, kernel, bias, epilogue)?;
        Self::try_max_pool2d::<B, OH, OW, OUT, PK, PS, POH, POW, T>(y)
    }
}
