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
use super::pooling::Pooling;
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
/// pooling: the images and the pooled values).
pub(crate) type WindowParams = (WindowArgs, u64, u64);

/// [`MAX_POOL_GRAD`]'s and [`AVG_POOL_GRAD`]'s parameters: the geometry, the images', the
/// pooled values', their gradient's and the images' gradient's addresses.
pub(crate) type PoolGradParams = (WindowArgs, u64, u64, u64, u64);

/// Floats of windows one chunk of images gathers at once (256 MiB): a larger batch runs chunk
/// by chunk through the same temporaries, so the convolution's memory does not grow with the
/// batch beyond its input and output.
const MAX_COLUMN_FLOATS: usize = 64 << 20;

/// The address `floats` floats after `base`.
fn offset(base: u64, floats: usize) -> u64 {
    base + (floats * std::mem::size_of::<f32>()) as u64
}

/// The sizes of one fused convolution: the windows' geometry over the batch, the filters, and
/// the images per chunk (each chunk's windows and product planned on their own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvDims {
    /// The windows over the whole batch.
    pub args: WindowArgs,
    /// Filters.
    pub out: usize,
    /// Images per chunk (the last chunk may have fewer).
    pub chunk: usize,
    /// The product of a whole chunk's windows with the kernel (the largest chunk's).
    pub chunk_dense: DenseDims,
}

impl ConvDims {
    /// The convolution of `images` images of geometry `g` by `out` filters, when the fused op
    /// takes it ([`WindowArgs::new`], and [`DenseDims::new`] for a chunk's product).
    pub(crate) fn new(g: &Geometry, images: usize, out: usize) -> Option<Self> {
        Self::with_budget(g, images, out, MAX_COLUMN_FLOATS)
    }

    /// As [`new`](Self::new), with chunks of as many images as fit `budget` floats of windows
    /// (at least one).
    pub(crate) fn with_budget(
        g: &Geometry,
        images: usize,
        out: usize,
        budget: usize,
    ) -> Option<Self> {
        let args = WindowArgs::new(g, images)?;
        let per_image = args.oh * args.ow * args.window_len();
        let chunk = (budget / per_image).clamp(1, images);
        let chunk_dense = DenseDims::new(chunk * args.oh * args.ow, args.window_len(), out)?;
        Some(ConvDims {
            args,
            out,
            chunk,
            chunk_dense,
        })
    }

    /// The product of `images` images' windows (at most a chunk's) with the kernel.
    fn dense_for(&self, images: usize) -> DenseDims {
        DenseDims {
            rows: images * self.args.oh * self.args.ow,
            ..self.chunk_dense
        }
    }

    /// `(first image, images)` of each chunk, in order.
    fn chunks(&self) -> impl Iterator<Item = (usize, usize)> {
        let (images, chunk) = (self.args.images, self.chunk);
        (0..images)
            .step_by(chunk)
            .map(move |first| (first, chunk.min(images - first)))
    }

    /// A `1 × 1` convolution of stride 1 without padding: the images are their own windows.
    pub(crate) fn pointwise(&self) -> bool {
        let a = &self.args;
        a.k == 1 && a.s == 1 && a.p == 0 && a.oh == a.h && a.ow == a.w
    }

    /// Floats of a chunk's windows (and of their gradient): 0 for a pointwise convolution.
    pub(crate) fn columns_len(&self) -> usize {
        match self.pointwise() {
            true => 0,
            false => self.chunk * self.args.oh * self.args.ow * self.args.window_len(),
        }
    }

    /// Floats of a chunk's output (the masked gradient's temporary).
    pub(crate) fn chunk_out_len(&self) -> usize {
        self.chunk_dense.out_len()
    }

    /// Floats of the product's scratch for a chunk's bias gradient.
    pub(crate) fn scratch_len(&self) -> usize {
        self.chunk_dense.scratch_len()
    }

    /// The geometry of `images` images, from image `first`: its windows' arguments, and the
    /// floats before it in the input and in the output.
    fn part(&self, first: usize, images: usize) -> (WindowArgs, usize, usize) {
        let a = self.args;
        let image_in = a.h * a.w * a.c;
        let image_out = a.oh * a.ow * self.out;
        (
            WindowArgs { images, ..a },
            first * image_in,
            first * image_out,
        )
    }
}

/// The windows of the images at `x` written to `columns`, or nothing for a pointwise
/// convolution.
fn im2col(
    pointwise: bool,
    args: WindowArgs,
    x: u64,
    columns: u64,
) -> Option<(Launch, WindowParams)> {
    (!pointwise).then(|| {
        (
            Launch::grid_stride(args.rows() * args.window_len(), THREADS),
            (args, x, columns),
        )
    })
}

/// The forward of one chunk: the windows, then `Dense`'s product on them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvForward {
    /// `columns = im2col(x)`, unless pointwise.
    pub im2col: Option<(Launch, WindowParams)>,
    /// `y = relu?(columns · kernel + bias)`.
    pub dense: dense::Forward,
}

/// The forward of `relu?(conv(x, kernel) + bias)` on row-major buffers at the given addresses,
/// chunk by chunk: `columns` holds [`ConvDims::columns_len`] floats (unused when pointwise),
/// reused by every chunk, `y` the whole output.
pub(crate) fn forward(
    d: ConvDims,
    relu: bool,
    x: u64,
    kernel: u64,
    bias: u64,
    columns: u64,
    y: u64,
) -> impl Iterator<Item = ConvForward> {
    let pointwise = d.pointwise();
    d.chunks().map(move |(first, images)| {
        let (args, x_at, y_at) = d.part(first, images);
        let x = offset(x, x_at);
        let windows = if pointwise { x } else { columns };
        ConvForward {
            im2col: im2col(pointwise, args, x, columns),
            dense: dense::forward(
                d.dense_for(images),
                relu,
                windows,
                kernel,
                bias,
                offset(y, y_at),
            ),
        }
    })
}

/// The buffers of a backward, by address: the whole batch's, and temporaries for one chunk.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvBackwardBuffers {
    /// The input images.
    pub x: u64,
    /// The kernel (`[k, k, c, out]`).
    pub kernel: u64,
    /// The output, when the op ends in a ReLU.
    pub relu_out: Option<u64>,
    /// [`ConvDims::chunk_out_len`] floats for a chunk's masked gradient (used after a ReLU).
    pub masked: u64,
    /// The output's gradient.
    pub grad_out: u64,
    /// [`ConvDims::scratch_len`] floats of the product's (used with several row blocks only).
    pub scratch: u64,
    /// [`ConvDims::columns_len`] floats for a chunk's windows, gathered again.
    pub columns: u64,
    /// [`ConvDims::columns_len`] floats for a chunk's windows' gradient (used with the input's
    /// gradient only).
    pub grad_columns: u64,
    /// The kernel's gradient, added to.
    pub grad_kernel: u64,
    /// The bias's gradient, added to.
    pub grad_bias: u64,
    /// The input's gradient, added to; `None` for the data batch (not computed).
    pub grad_input: Option<u64>,
}

/// The backward of one chunk, in order: the windows again, `Dense`'s backward on them, the
/// windows' gradient scattered onto the input's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConvBackward {
    /// `columns = im2col(x)`, unless pointwise.
    pub im2col: Option<(Launch, WindowParams)>,
    /// The ReLU mask, the bias and kernel gradients (added to, chunk after chunk), and the
    /// windows' gradient: written to `grad_columns` (the product overwrites it), or, pointwise,
    /// added to the input's.
    pub dense: dense::Backward,
    /// `grad_input += col2im(grad_columns)`, with the input's gradient unless pointwise.
    pub col2im: Option<(Launch, WindowParams)>,
}

/// The backward of the op [`forward`] planned, chunk by chunk, accumulating into the gradients
/// as dfdx's ops do.
pub(crate) fn backward(d: ConvDims, b: ConvBackwardBuffers) -> impl Iterator<Item = ConvBackward> {
    let pointwise = d.pointwise();
    d.chunks().map(move |(first, images)| {
        let (args, x_at, out_at) = d.part(first, images);
        let x = offset(b.x, x_at);
        let grad_input = b.grad_input.map(|g| offset(g, x_at));
        let windows = if pointwise { x } else { b.columns };
        // Pointwise, the windows' gradient is the input's; else it goes to its own buffer
        // first.
        let grad_windows = grad_input.map(|g| if pointwise { g } else { b.grad_columns });
        let mut dense = dense::backward(
            d.dense_for(images),
            BackwardBuffers {
                x: windows,
                kernel: b.kernel,
                relu: b.relu_out.map(|out| ReluBuffers {
                    out: offset(out, out_at),
                    masked: b.masked,
                }),
                grad_out: offset(b.grad_out, out_at),
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
        let col2im = match (pointwise, grad_input) {
            (false, Some(g)) => Some((
                Launch::grid_stride(args.input_len(), THREADS),
                (args, b.grad_columns, g),
            )),
            _ => None,
        };
        ConvBackward {
            im2col: im2col(pointwise, args, x, b.columns),
            dense,
            col2im,
        }
    })
}

/// `y = pool(x)` (`args` with no padding, `y` [`WindowArgs::pooled_len`] floats): the kernel
/// and its launch.
pub(crate) fn pool(
    pooling: Pooling,
    args: WindowArgs,
    x: u64,
    y: u64,
) -> (&'static str, Launch, WindowParams) {
    let name = match pooling {
        Pooling::Max => MAX_POOL,
        Pooling::Avg => AVG_POOL,
    };
    (
        name,
        Launch::grid_stride(args.pooled_len(), THREADS),
        (args, x, y),
    )
}

/// `dx += pool'(x, y) · g`: each window's gradient to its first maximum, or over its size to
/// each of its pixels (which reads neither `x` nor `y`). The kernel and its launch.
pub(crate) fn pool_grad(
    pooling: Pooling,
    args: WindowArgs,
    x: u64,
    y: u64,
    g: u64,
    dx: u64,
) -> (&'static str, Launch, PoolGradParams) {
    let name = match pooling {
        Pooling::Max => MAX_POOL_GRAD,
        Pooling::Avg => AVG_POOL_GRAD,
    };
    (
        name,
        Launch::grid_stride(args.input_len(), THREADS),
        (args, x, y, g, dx),
    )
}
