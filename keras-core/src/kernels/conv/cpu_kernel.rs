//! `Conv2D`, `MaxPooling2D` and `AveragePooling2D` on `Cpu`: in `f32` one op each on the tape
//! (`cpu_conv`, `cpu_max_pool`, `cpu_avg_pool`), in `f64` dfdx's ops over gathered windows.

use dfdx::shapes::{Const, Dim, HasShape, Rank1, Rank4};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};

use super::conv_kernel::{ConvKernel, Images};
use super::geometry::Geometry;
use super::pooling::Pooling;
use super::with_ops::conv_kernel_with_ops;
use super::{cpu_avg_pool, cpu_conv, cpu_conv_pool, cpu_max_pool};
use crate::kernels::cpu_view::{contiguous, contiguous_mut, read};
use crate::kernels::dense::is_data_input;
use crate::kernels::Epilogue;

conv_kernel_with_ops!(Cpu, host: true; f64);

/// The fused ops. Every tensor the trainer makes is contiguous; a broadcast or permuted input,
/// or an empty batch, goes to dfdx's ops (`with_ops`). No input gradient for a batch marked
/// with [`mark_data_input`](crate::kernels::mark_data_input).
impl ConvKernel<f32> for Cpu {
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
        T: Tape<f32, Self>,
    >(
        x: Images<B, H, W, IN, f32, Self, T>,
        kernel: &Tensor<Rank4<K, K, IN, OUT>, f32, Self>,
        bias: &Tensor<Rank1<OUT>, f32, Self>,
        epilogue: Epilogue,
    ) -> Result<Images<B, OH, OW, OUT, f32, Self, T>, CpuError> {
        let shape = (x.shape().0, Const::<OH>, Const::<OW>, Const::<OUT>);
        // From dfdx's allocator, so its cache (when enabled) stays balanced.
        let mut out: Images<B, OH, OW, OUT, f32, Cpu, _> = x.device().try_zeros_like(&shape)?;
        let g = Geometry::of::<H, W, IN, K, S, P, OH, OW>();
        let relu = epilogue == Epilogue::BiasRelu;
        let fused = match (
            contiguous(&x),
            contiguous(kernel),
            contiguous(bias),
            contiguous_mut(&mut out),
        ) {
            (Some(xs), Some(ws), Some(bs), Some(ys)) => {
                cpu_conv::forward(&g, OUT, xs, ws, bs, relu, ys).map_err(shape_bug)?;
                true
            }
            _ => false,
        };
        if !fused {
            return super::with_ops::conv2d_with_ops::<B, H, W, IN, OUT, K, S, P, OH, OW, _, _, _>(
                x, kernel, bias, epilogue,
            );
        }
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let kernel = kernel.clone();
            let bias = bias.clone();
            let out = out.clone();
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| {
                // The data batch (marked in the gradients its tape carries) gets no gradient.
                let need_dx = !is_data_input(grads, &x);
                let g_out = std::mem::take(&mut **grads.get_or_alloc_mut(&out)?);
                let (xs, ws, ys) = (read(&x), read(&kernel), read(&out));
                let backward = cpu_conv::Backward {
                    g,
                    out: OUT,
                    x: &xs,
                    kernel: &ws,
                    y: &ys,
                    g_out: &g_out,
                    relu,
                };
                let mut grad_kernel = std::mem::take(&mut **grads.get_or_alloc_mut(&kernel)?);
                let mut grad_bias = std::mem::take(&mut **grads.get_or_alloc_mut(&bias)?);
                let result = if need_dx {
                    backward.run(
                        &mut grad_kernel,
                        &mut grad_bias,
                        Some(grads.get_or_alloc_mut(&x)?),
                    )
                } else {
                    backward.run(&mut grad_kernel, &mut grad_bias, None)
                };
                **grads.get_or_alloc_mut(&kernel)? = grad_kernel;
                **grads.get_or_alloc_mut(&bias)? = grad_bias;
                **grads.get_or_alloc_mut(&out)? = g_out;
                result.map_err(shape_bug)
            });
        }
        Ok(out.put_tape(tape))
    }

    fn try_max_pool2d<
        B: Dim,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const S: usize,
        const OH: usize,
        const OW: usize,
        T: Tape<f32, Self>,
    >(
        x: Images<B, H, W, C, f32, Self, T>,
    ) -> Result<Images<B, OH, OW, C, f32, Self, T>, CpuError> {
        pool::<B, H, W, C, K, S, OH, OW, T>(x, Pooling::Max)
    }

    fn try_avg_pool2d<
        B: Dim,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const S: usize,
        const OH: usize,
        const OW: usize,
        T: Tape<f32, Self>,
    >(
        x: Images<B, H, W, C, f32, Self, T>,
    ) -> Result<Images<B, OH, OW, C, f32, Self, T>, CpuError> {
        pool::<B, H, W, C, K, S, OH, OW, T>(x, Pooling::Avg)
    }

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
        T: Tape<f32, Self>,
    >(
        x: Images<B, H, W, IN, f32, Self, T>,
        kernel: &Tensor<Rank4<K, K, IN, OUT>, f32, Self>,
        bias: &Tensor<Rank1<OUT>, f32, Self>,
        epilogue: Epilogue,
    ) -> Result<Images<B, POH, POW, OUT, f32, Self, T>, CpuError> {
        let unfused = |x| {
            let y = Self::try_conv2d::<B, H, W, IN, OUT, K, S, P, OH, OW, T>(
                x, kernel, bias, epilogue,
            )?;
            Self::try_max_pool2d::<B, OH, OW, OUT, PK, PS, POH, POW, T>(y)
        };
        if T::OWNS_TAPE || x.shape().0.size() == 0 {
            // The backward reads the convolution's output.
            return unfused(x);
        }
        let shape = (x.shape().0, Const::<POH>, Const::<POW>, Const::<OUT>);
        let mut out: Images<B, POH, POW, OUT, f32, Cpu, _> = x.device().try_zeros_like(&shape)?;
        let conv = Geometry::of::<H, W, IN, K, S, P, OH, OW>();
        let pool = Geometry::of::<OH, OW, OUT, PK, PS, 0, POH, POW>();
        let relu = epilogue == Epilogue::BiasRelu;
        match (
            contiguous(&x),
            contiguous(kernel),
            contiguous(bias),
            contiguous_mut(&mut out),
        ) {
            (Some(xs), Some(ws), Some(bs), Some(ys)) => {
                cpu_conv_pool::forward(&conv, OUT, &pool, xs, ws, bs, relu, ys)
                    .map_err(shape_bug)?;
            }
            _ => return unfused(x),
        }
        let (_, tape) = x.split_tape();
        Ok(out.put_tape(tape))
    }
}

/// Max or average pooling as one op each way (`cpu_max_pool`, `cpu_avg_pool`); a view that is
/// not row-major or an empty batch goes to dfdx's ops.
#[allow(clippy::type_complexity)]
fn pool<
    B: Dim,
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
    T: Tape<f32, Cpu>,
>(
    x: Images<B, H, W, C, f32, Cpu, T>,
    pooling: Pooling,
) -> Result<Images<B, OH, OW, C, f32, Cpu, T>, CpuError> {
    let shape = (x.shape().0, Const::<OH>, Const::<OW>, Const::<C>);
    let mut out: Images<B, OH, OW, C, f32, Cpu, _> = x.device().try_zeros_like(&shape)?;
    let g = Geometry::of::<H, W, C, K, S, 0, OH, OW>();
    match (contiguous(&x), contiguous_mut(&mut out), pooling) {
        (Some(xs), Some(ys), Pooling::Max) => cpu_max_pool::forward(&g, xs, ys),
        (Some(xs), Some(ys), Pooling::Avg) => cpu_avg_pool::forward(&g, xs, ys),
        _ => return pooling.with_ops::<B, H, W, C, K, S, OH, OW, _, _, _>(x, true),
    }
    let (x, mut tape) = x.split_tape();
    if T::OWNS_TAPE {
        let out = out.clone();
        tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| {
            let g_out = std::mem::take(&mut **grads.get_or_alloc_mut(&out)?);
            match pooling {
                Pooling::Max => {
                    let (xs, ys) = (read(&x), read(&out));
                    cpu_max_pool::backward(&g, &xs, &ys, &g_out, grads.get_or_alloc_mut(&x)?);
                }
                Pooling::Avg => cpu_avg_pool::backward(&g, &g_out, grads.get_or_alloc_mut(&x)?),
            }
            **grads.get_or_alloc_mut(&out)? = g_out;
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// Maps an impossible shape error (the types fix every dimension) to dfdx's error.
fn shape_bug(_: crate::Error) -> CpuError {
    CpuError::WrongNumElements
}
