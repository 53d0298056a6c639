//! The fused `Conv2D`, `MaxPooling2D` and `AveragePooling2D` ops on `Cuda`, planned for
//! `cuda_kernel.rs` and for the CPU emulation alike: the launches of `conv.cu`'s window kernels
//! and, for the convolution, `Dense`'s plan on the windows (`dense::launch`), in the order they
//! run, from the buffers' addresses.
//!
//! The convolution of `(images, h, w, c)` images with a `[k, k, c, out]` kernel is `Dense`'s
//! product of the windows (`images · oh · ow` rows of `k · k · c` values, im2col) with the kernel
//! read as a `(k · k · c) × out` matrix, which is how a Keras kernel lies in memory. A `1 × 1`
//! convolution of stride 1 without padding is that product on the images themselves: no windows
//! are gathered or scattered.

use super::geometry::Geometry;
use crate::kernels::dense::launch::{self as dense, BackwardBuffers, DenseDims, ReluBuffers};
use crate::kernels::Launch;

/// `conv.cu`'s window gathering.
pub(crate) const IM2COL: &str = "keras_conv_im2col";
/// `conv.cu`'s window gradients' scattering (as a gather per input value).
pub(crate) const COL2IM: &str = "keras_conv_col2im";
/// `conv.cu`'s max pooling.
pub(crate) const MAX_POOL: &str = "keras_max_pool";
/// `conv.cu`'s max pooling's backward.
pub(crate) const MAX_POOL_GRAD: &str = "keras_max_pool_grad";
/// `conv.cu`'s average pooling.
pub(crate) const AVG_POOL: &str = "keras_avg_pool";
/// `conv.cu`'s average pooling's backward.
pub(crate) const AVG_POOL_GRAD: &str = "keras_avg_pool_grad";
/// Every kernel of `conv.cu`.
pub(crate) const NAMES: [&str; 6] = [
    IM2COL,
    COL2IM,
    MAX_POOL,
    MAX_POOL_GRAD,
    AVG_POOL,
    AVG_POOL_GRAD,
];

/// Threads per block of `conv.cu`'s kernels (all elementwise, grid-stride).
const THREADS: u32 = 256;

/// `conv.cu`'s `WindowArgs`, field for field: a window op's [`Geometry`] over a batch.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WindowArgs {
    images: usize,
    h: usize,
    w: usize,
    c: usize,
    k: usize,
    s: usize,
    p: usize,
    oh: usize,
    ow: usize,
}

// SAFETY: `WindowArgs` is `repr(C)` plain data with the layout of `conv.cu`'s `WindowArgs` (nine
// 64-bit sizes), passed by value.
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for WindowArgs {}
// SAFETY: as above.
#[cfg(all(test, feature = "cuda-emulation"))]
unsafe impl crate::kernels::emulation::Param for WindowArgs {}

impl WindowArgs {
    /// The op `g` over `images` images, when the kernels take it: at least one image, every size
    /// above 0 (the stride and the outputs too), the outputs' windows inside the padded images,
    /// and every buffer's length within `usize`. Other batches go to dfdx's ops.
    pub(crate) fn new(g: &Geometry, images: usize) -> Option<Self> {
        let sizes = [images, g.h, g.w, g.c, g.k, g.s, g.oh, g.ow];
        let inside = |outs: usize, len: usize| {
            (outs - 1)
                .checked_mul(g.s)
                .and_then(|v| v.checked_add(g.k))
                .zip(len.checked_add(2 * g.p))
                .is_some_and(|(end, padded)| end <= padded)
        };
        let lens = [
            images.checked_mul(g.h * g.w * g.c),
            images.checked_mul(g.oh * g.ow * g.k * g.k * g.c),
        ];
        (sizes.iter().all(|&d| d > 0)
            && inside(g.oh, g.h)
            && inside(g.ow, g.w)
            && lens.iter().all(Option::is_some))
        .then_some(WindowArgs {
            images,
            h: g.h,
            w: g.w,
            c: g.c,
            k: g.k,
            s: g.s,
            p: g.p,
            oh: g.oh,
            ow: g.ow,
        })
    }

    /// Values of the input batch.
    pub(crate) fn input_len(&self) -> usize {
        self.images * self.h * self.w * self.c
    }

    /// Values of the output batch of a pooling (`c` channels).
    pub(crate) fn pooled_len(&self) -> usize {
        self.images * self.oh * self.ow * self.c
    }

    /// Output pixels of the batch: the rows of the windows.
    fn rows(&self) -> usize {
        self.images * self.oh * self.ow
    }

    /// Values of one window.
    fn window_len(&self) -> usize {
        self.k * self.k * self.c
    }
}

/// A window kernel's parameters: the geometry, then the address it reads and the one it
/// writes (im2col: the images and the windows; col2im: the windows' and the images' gradients;
/// pooling: the images and the pooled values; average pooling's backward: the pooled values'
/// and the images' gradients).
pub(crate) type WindowParams = (WindowArgs, u64, u64);

/// [`MAX_POOL_GRAD`]'s parameters: the geometry, the images', the pooled values', their
/// gradient's and the images' gradient's addresses.
pub(crate) type PoolGradParams = (WindowArgs, u64, u64, u64, u64);

/// The sizes of one fused convolution: the windows' geometry and their product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvDims {
    /// The windows over the batch.
    pub args: WindowArgs,
    /// The product of the windows with the kernel.
    pub dense: DenseDims,
}

impl ConvDims {
    /// The convolution of `images` images of geometry `g` by `out` filters, when the fused op
    /// takes it ([`WindowArgs::new`] and [`DenseDims::new`]).
    pub(crate) fn new(g: &Geometry, images: usize, out: usize) -> Option<Self> {
        let args = WindowArgs::new(g, images)?;
        let dense = DenseDims::new(args.rows(), args.window_len(), out)?;
        Some(ConvDims { args, dense })
    }

    /// A `1 × 1` convolution of stride 1 without padding: the images are their own windows.
    pub(crate) fn pointwise(&self) -> bool {
        let a = &self.args;
        a.k == 1 && a.s == 1 && a.p == 0 && a.oh == a.h && a.ow == a.w
    }

    /// Floats of the windows (and of their gradient): 0 for a pointwise convolution.
    pub(crate) fn columns_len(&self) -> usize {
        match self.pointwise() {
            true => 0,
            false => self.args.rows() * self.args.window_len(),
        }
    }

    /// Floats of the output.
    pub(crate) fn out_len(&self) -> usize {
        self.dense.out_len()
    }
}

/// The windows of the images at `x` written to `columns` ([`ConvDims::columns_len`] floats), or
/// nothing for a pointwise convolution.
fn im2col(d: &ConvDims, x: u64, columns: u64) -> Option<(Launch, WindowParams)> {
    (!d.pointwise()).then(|| {
        (
            Launch::grid_stride(d.columns_len(), THREADS),
            (d.args, x, columns),
        )
    })
}

/// The forward: the windows, then `Dense`'s product on them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvForward {
    /// `columns = im2col(x)`, unless pointwise.
    pub im2col: Option<(Launch, WindowParams)>,
    /// `y = relu?(columns · kernel + bias)`.
    pub dense: dense::Forward,
}

/// The forward of `relu?(conv(x, kernel) + bias)` on row-major buffers at the given addresses:
/// `columns` holds [`ConvDims::columns_len`] floats (unused when pointwise), `y`
/// [`ConvDims::out_len`].
pub(crate) fn forward(
    d: ConvDims,
    relu: bool,
    x: u64,
    kernel: u64,
    bias: u64,
    columns: u64,
    y: u64,
) -> ConvForward {
    let windows = if d.pointwise() { x } else { columns };
    ConvForward {
        im2col: im2col(&d, x, columns),
        dense: dense::forward(d.dense, relu, windows, kernel, bias, y),
    }
}

/// The buffers of a backward, by address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvBackwardBuffers {
    /// The input images.
    pub x: u64,
    /// The kernel (`[k, k, c, out]`).
    pub kernel: u64,
    /// The output and a buffer for the masked gradient, when the op ends in a ReLU.
    pub relu: Option<ReluBuffers>,
    /// The output's gradient.
    pub grad_out: u64,
    /// [`DenseDims::scratch_len`] floats of the product's (used with several row blocks only).
    pub scratch: u64,
    /// [`ConvDims::columns_len`] floats for the windows, gathered again.
    pub columns: u64,
    /// [`ConvDims::columns_len`] floats for the windows' gradient (used with the input's
    /// gradient only).
    pub grad_columns: u64,
    /// The kernel's gradient, added to.
    pub grad_kernel: u64,
    /// The bias's gradient, added to.
    pub grad_bias: u64,
    /// The input's gradient, added to; `None` for the data batch (not computed).
    pub grad_input: Option<u64>,
}

/// The backward, in order: the windows again, `Dense`'s backward on them, the windows'
/// gradient scattered onto the input's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvBackward {
    /// `columns = im2col(x)`, unless pointwise.
    pub im2col: Option<(Launch, WindowParams)>,
    /// The ReLU mask, the bias and kernel gradients, and the windows' gradient: written to
    /// `grad_columns` (the product overwrites it), or, pointwise, added to the input's.
    pub dense: dense::Backward,
    /// `grad_input += col2im(grad_columns)`, with the input's gradient unless pointwise.
    pub col2im: Option<(Launch, WindowParams)>,
}

/// The backward of the op [`forward`] planned, accumulating into the gradients as dfdx's ops do.
pub(crate) fn backward(d: ConvDims, b: ConvBackwardBuffers) -> ConvBackward {
    let pointwise = d.pointwise();
    let windows = if pointwise { b.x } else { b.columns };
    // Pointwise, the windows' gradient is the input's; else it goes to its own buffer first.
    let grad_windows = b.grad_input.map(|grad_input| {
        if pointwise {
            grad_input
        } else {
            b.grad_columns
        }
    });
    let mut dense = dense::backward(
        d.dense,
        BackwardBuffers {
            x: windows,
            kernel: b.kernel,
            relu: b.relu,
            grad_out: b.grad_out,
            scratch: b.scratch,
            grad_kernel: b.grad_kernel,
            grad_bias: b.grad_bias,
            grad_input: grad_windows,
        },
    );
    if !pointwise {
        if let Some(product) = dense.grad_input.as_mut() {
            // The windows' gradient buffer is not zero-filled: the product writes it.
            product.beta = 0.0;
        }
    }
    let col2im = match (pointwise, b.grad_input) {
        (false, Some(grad_input)) => Some((
            Launch::grid_stride(d.args.input_len(), THREADS),
            (d.args, b.grad_columns, grad_input),
        )),
        _ => None,
    };
    ConvBackward {
        im2col: im2col(&d, b.x, b.columns),
        dense,
        col2im,
    }
}

/// `y = max_pool(x)` (`args` with no padding, `y` [`WindowArgs::pooled_len`] floats).
pub(crate) fn max_pool(args: WindowArgs, x: u64, y: u64) -> (Launch, WindowParams) {
    (
        Launch::grid_stride(args.pooled_len(), THREADS),
        (args, x, y),
    )
}

/// `dx += max_pool'(x, y) · g`: each window's gradient to its first maximum.
pub(crate) fn max_pool_grad(
    args: WindowArgs,
    x: u64,
    y: u64,
    g: u64,
    dx: u64,
) -> (Launch, PoolGradParams) {
    (
        Launch::grid_stride(args.input_len(), THREADS),
        (args, x, y, g, dx),
    )
}

/// `y = avg_pool(x)` (`args` with no padding, `y` [`WindowArgs::pooled_len`] floats).
pub(crate) fn avg_pool(args: WindowArgs, x: u64, y: u64) -> (Launch, WindowParams) {
    (
        Launch::grid_stride(args.pooled_len(), THREADS),
        (args, x, y),
    )
}

/// `dx += avg_pool'(g)`: each window's gradient, over its size, to each of its pixels.
pub(crate) fn avg_pool_grad(args: WindowArgs, g: u64, dx: u64) -> (Launch, WindowParams) {
    (
        Launch::grid_stride(args.input_len(), THREADS),
        (args, g, dx),
    )
}
