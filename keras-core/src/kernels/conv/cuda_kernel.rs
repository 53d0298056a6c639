//! `Conv2D`, `MaxPooling2D` and `AveragePooling2D` on `Cuda`: in `f32` one fused op each on dfdx's tape, in `f64`
//! dfdx's ops over gathered windows (`with_ops`).
//!
//! The fused ops run, on dfdx's stream, the plans of `launch.rs`:
//! - the convolution: `conv.cu`'s `keras_conv_im2col` gathers the windows into a temporary from
//!   dfdx's cache, then `Dense`'s fused op on `Cuda` runs on them (cuBLAS's product, the bias and
//!   ReLU in one kernel); the backward gathers the windows again (they are not kept between the
//!   passes), runs `Dense`'s backward (the ReLU mask and bias gradient in one kernel, the kernel's
//!   and the windows' gradients as cuBLAS products) and `keras_conv_col2im` adds the windows'
//!   gradient onto the input's (unless the input is the batch marked as data). A pointwise
//!   convolution skips both window kernels. A batch whose windows would exceed 256 MiB runs
//!   chunk by chunk of images through the same temporaries (the kernel's and bias's gradients
//!   added to chunk after chunk), so the op's memory does not grow with the batch.
//! - max pooling: `keras_max_pool` forward, `keras_max_pool_grad` backward (each window's
//!   gradient to its first maximum, as on the CPU), no index tensor; average pooling likewise
//!   (`keras_avg_pool`, `keras_avg_pool_grad`).
//!
//! dfdx's ops (the fallback) gather the windows with index tensors built on the host and uploaded
//! at every step, then run the product, the bias and the ReLU as separate kernels.

use cudarc::driver::DevicePtrMut;
use dfdx::shapes::{Const, Dim, HasShape, Rank1, Rank4, Shape};
use dfdx::tensor::{Cuda, CudaError, Gradients, PutTape, SplitTape, Tape, Tensor};

use super::conv_kernel::{ConvKernel, Images};
use super::geometry::Geometry;
use super::launch::{self, ConvBackwardBuffers, ConvDims, WindowArgs, COL2IM, IM2COL, NAMES};
use super::pooling::Pooling;
use super::with_ops::{conv2d_with_ops, conv_kernel_with_ops};
use crate::kernels::cuda_function::{address, grad_address, run_kernel, temporary};
use crate::kernels::dense::cuda_kernel::{run_backward, run_forward};
use crate::kernels::dense::is_data_input;
use crate::kernels::Epilogue;

/// `conv.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/conv.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_conv";

/// The module as [`run_kernel`] takes it.
const KERNELS: (&str, &str, &[&str]) = (MODULE, PTX, &NAMES);

conv_kernel_with_ops!(Cuda, host: false; f64);

/// The fused ops. Every tensor the trainer makes is row-major; a broadcast or permuted operand,
/// an empty batch, or sizes beyond cuBLAS's `int` go to dfdx's ops (`with_ops`). No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl ConvKernel<f32> for Cuda {
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
    ) -> Result<Images<B, OH, OW, OUT, f32, Self, T>, CudaError> {
        let g = Geometry::of::<H, W, IN, K, S, P, OH, OW>();
        let dims = ConvDims::new(&g, x.shape().0.size(), OUT)
            .filter(|_| x.is_row_major() && kernel.is_row_major() && bias.is_row_major());
        let Some(dims) = dims else {
            return conv2d_with_ops::<B, H, W, IN, OUT, K, S, P, OH, OW, _, _, _>(
                x, kernel, bias, epilogue,
            );
        };
        let dev = x.device().clone();
        // Not zero-filled: the product writes every element.
        let mut out: Images<B, OH, OW, OUT, f32, Cuda, _> =
            dev.try_unfilled_like(&(x.shape().0, Const, Const, Const))?;
        let relu = epilogue == Epilogue::BiasRelu;
        let columns = temporary(&dev, dims.columns_len())?;
        let plans = launch::forward(
            dims,
            relu,
            address(&x),
            address(kernel),
            address(bias),
            columns.as_ref().map_or(0, address),
            *out.storage_mut().device_ptr_mut(),
        );
        // SAFETY (of each chunk's launches): `keras_conv_im2col` reads the chunk's images in `x`
        // and writes at most the `columns_len` floats of `columns`; the product reads those (or
        // the chunk's images, pointwise) and the `K·K·IN × OUT` of `kernel` and writes the
        // chunk's rows of `out`, the bias kernel reads `OUT` floats of `bias`: row-major live
        // buffers of this device of those lengths (`is_row_major`, `ConvDims`), `columns` and
        // `out` borrowed by nobody else. All run on dfdx's stream in order, so a chunk's
        // windows overwrite the last one's only after its product read them; `columns` goes
        // back to the cache after them.
        for plan in plans {
            unsafe {
                if let Some(step) = plan.im2col {
                    run_kernel(&dev, KERNELS, IM2COL, step)?;
                }
                run_forward(&dev, &plan.dense)?;
            }
        }
        drop(columns);
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let saved = ConvSaved {
                x,
                kernel: kernel.clone(),
                bias: bias.clone(),
                out: out.clone(),
                relu,
                dims,
            };
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| saved.backward(grads));
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
    ) -> Result<Images<B, OH, OW, C, f32, Self, T>, CudaError> {
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
    ) -> Result<Images<B, OH, OW, C, f32, Self, T>, CudaError> {
        pool::<B, H, W, C, K, S, OH, OW, T>(x, Pooling::Avg)
    }
}

/// Max or average pooling as one kernel each way; a view that is not row-major or an empty
/// batch goes to dfdx's ops.
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
    T: Tape<f32, Cuda>,
>(
    x: Images<B, H, W, C, f32, Cuda, T>,
    pooling: Pooling,
) -> Result<Images<B, OH, OW, C, f32, Cuda, T>, CudaError> {
    let g = Geometry::of::<H, W, C, K, S, 0, OH, OW>();
    let args = WindowArgs::new(&g, x.shape().0.size()).filter(|_| x.is_row_major());
    let Some(args) = args else {
        return pooling.with_ops::<B, H, W, C, K, S, OH, OW, _, _, _>(x, false);
    };
    let dev = x.device().clone();
    // Not zero-filled: the kernel writes every element.
    let mut out: Images<B, OH, OW, C, f32, Cuda, _> =
        dev.try_unfilled_like(&(x.shape().0, Const, Const, Const))?;
    let (name, shape, params) = launch::pool(
        pooling,
        args,
        address(&x),
        *out.storage_mut().device_ptr_mut(),
    );
    // SAFETY: the pooling kernel reads the `input_len` floats of `x` and writes the `pooled_len`
    // of `out`, row-major live buffers of this device of those lengths (`is_row_major`,
    // `WindowArgs`), `out` borrowed by nobody else.
    unsafe { run_kernel(&dev, KERNELS, name, (shape, params)) }?;
    let (x, mut tape) = x.split_tape();
    if T::OWNS_TAPE {
        let out = out.clone();
        tape.add_backward_op(move |grads: &mut Gradients<f32, Cuda>| {
            let g_out = grad_address(grads, &out)?;
            let dx = grad_address(grads, &x)?;
            let (name, shape, params) =
                launch::pool_grad(pooling, args, address(&x), address(&out), g_out, dx);
            // SAFETY: the backward kernel reads `x` (`input_len` floats), `out` and its
            // gradient (`pooled_len`), and rewrites the input's gradient (`input_len`): live
            // buffers of this device of those lengths (the gradients are allocated like their
            // tensors), on dfdx's stream after the kernels that wrote them.
            unsafe { run_kernel(x.device(), KERNELS, name, (shape, params)) }?;
            Ok(())
        });
    }
    Ok(out.put_tape(tape))
}

/// What the convolution's backward needs, kept alive by the tape.
struct ConvSaved<Sx: Shape, Sk: Shape, Sb: Shape, So: Shape> {
    x: Tensor<Sx, f32, Cuda>,
    kernel: Tensor<Sk, f32, Cuda>,
    bias: Tensor<Sb, f32, Cuda>,
    out: Tensor<So, f32, Cuda>,
    relu: bool,
    dims: ConvDims,
}

impl<Sx: Shape, Sk: Shape, Sb: Shape, So: Shape> ConvSaved<Sx, Sk, Sb, So> {
    /// Adds to the kernel, bias and (unless `x` is the data batch) input gradients.
    fn backward(self, grads: &mut Gradients<f32, Cuda>) -> Result<(), CudaError> {
        // The data batch (marked in the gradients its tape carries) gets no gradient.
        let need_dx = !is_data_input(grads, &self.x);
        let dev = self.x.device().clone();
        let dims = self.dims;
        let grad_out = grad_address(grads, &self.out)?;
        let grad_kernel = grad_address(grads, &self.kernel)?;
        let grad_bias = grad_address(grads, &self.bias)?;
        let grad_input = match need_dx {
            true => Some(grad_address(grads, &self.x)?),
            false => None,
        };
        // Temporaries from dfdx's cache for one chunk, each written before it is read.
        let masked = temporary(&dev, if self.relu { dims.chunk_out_len() } else { 0 })?;
        let sums = temporary(&dev, dims.scratch_len())?;
        let columns = temporary(&dev, dims.columns_len())?;
        let grad_columns = temporary(&dev, if need_dx { dims.columns_len() } else { 0 })?;
        let address_of = |t: &Option<Tensor<(usize,), f32, Cuda>>| t.as_ref().map_or(0, address);
        let plans = launch::backward(
            dims,
            ConvBackwardBuffers {
                x: address(&self.x),
                kernel: address(&self.kernel),
                relu_out: self.relu.then(|| address(&self.out)),
                masked: address_of(&masked),
                grad_out,
                scratch: address_of(&sums),
                columns: address_of(&columns),
                grad_columns: address_of(&grad_columns),
                grad_kernel,
                grad_bias,
                grad_input,
            },
        );
        // SAFETY (of each chunk's launches): `keras_conv_im2col` reads the chunk's images in `x`
        // and writes `columns`; `Dense`'s backward reads the windows, the kernel, the chunk's
        // rows of the output and of its gradient, writes `masked`, `sums` and `grad_columns`
        // and adds to the kernel's and bias's gradients (and, pointwise, the chunk's rows of the
        // input's); `keras_conv_col2im` reads `grad_columns` and adds to the chunk's images in
        // the input's gradient. Every buffer is a live buffer of this device of the length the
        // plan assumes (`is_row_major` and `ConvDims` in the forward, the temporaries above,
        // sized for the largest chunk), all on dfdx's stream, in order.
        for plan in plans {
            unsafe {
                if let Some(step) = plan.im2col {
                    run_kernel(&dev, KERNELS, IM2COL, step)?;
                }
                run_backward(&dev, &plan.dense)?;
                if let Some(step) = plan.col2im {
                    run_kernel(&dev, KERNELS, COL2IM, step)?;
                }
            }
        }
        Ok(())
    }
}
