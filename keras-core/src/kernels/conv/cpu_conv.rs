//! The convolution on `Cpu` in `f32`: forward and backward over blocks of images, each block's
//! windows packed (im2col) into a cache-sized buffer and multiplied at once with `gemm`'s
//! kernels on the thread that packed them.

use std::cell::Cell;

use rayon::prelude::*;

use super::direct::{self, DIRECT_MAX_WINDOW};
use super::geometry::Geometry;
use crate::kernels::gemm_f32::{matmul_serial, MatRef, Start};
use crate::{Error, Result};

/// Window values packed per block of images, at most (unless one image has more): 512 KiB, a
/// quarter of a core's L2 on the machines measured, so the block's windows, its output and
/// the filters stay in cache through the product.
const BLOCK_VALUES: usize = 128 * 1024;

thread_local! {
    /// This thread's window buffer and (backward) masked upstream gradient and window gradient,
    /// reused across calls.
    static SCRATCH: Cell<(Vec<f32>, Vec<f32>, Vec<f32>)> =
        const { Cell::new((Vec::new(), Vec::new(), Vec::new())) };
}

/// Images per block for geometry `g`.
pub(super) fn images_per_block(g: &Geometry) -> usize {
    (BLOCK_VALUES / (g.out_pixels() * g.window_len()).max(1)).max(1)
}

/// Runs `f` with this thread's scratch buffers.
pub(super) fn with_scratch<R>(
    f: impl FnOnce(&mut Vec<f32>, &mut Vec<f32>, &mut Vec<f32>) -> R,
) -> R {
    let (mut a, mut b, mut c) = SCRATCH.take();
    let r = f(&mut a, &mut b, &mut c);
    SCRATCH.set((a, b, c));
    r
}

/// A row-major view (the lengths follow from the geometry).
fn rows(data: &[f32], rows: usize, cols: usize) -> Result<MatRef<'_>> {
    MatRef::row_major(data, rows, cols)
}

/// `y = epilogue(conv(x) + bias)` for `x` of `n` images (`n * image_len` values), `kernel`
/// `window_len × out` row-major, `y` `n * out_pixels × out`; blocks of images on rayon's threads.
pub(super) fn forward(
    g: &Geometry,
    out: usize,
    x: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) -> Result<()> {
    let per_block = images_per_block(g);
    y.par_chunks_mut(per_block * g.out_pixels() * out)
        .zip(x.par_chunks(per_block * g.image_len()))
        .try_for_each(|(y, x)| {
            with_scratch(|cols, _, _| forward_block(g, out, x, kernel, bias, relu, y, cols))
        })
}

/// [`forward`] for one block of whole images `x` (at most [`images_per_block`] of them, or
/// any number on the direct path), their outputs in `y`; `cols` is scratch space for the
/// packed windows.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_block(
    g: &Geometry,
    out: usize,
    x: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
    cols: &mut Vec<f32>,
) -> Result<()> {
    if g.window_len() <= DIRECT_MAX_WINDOW {
        for (image, y) in x
            .chunks_exact(g.image_len())
            .zip(y.chunks_exact_mut(g.out_pixels() * out))
        {
            direct::forward_image(g, image, kernel, bias, relu, y);
        }
        return Ok(());
    }
    let m = x.len() / g.image_len() * g.out_pixels();
    cols.resize(m * g.window_len(), 0.0);
    for (image, cols) in x
        .chunks_exact(g.image_len())
        .zip(cols.chunks_exact_mut(g.out_pixels() * g.window_len()))
    {
        g.im2col(image, cols);
    }
    matmul_serial(
        y,
        rows(cols, m, g.window_len())?,
        rows(kernel, g.window_len(), out)?,
        Start::Bias(bias),
        relu,
    )
}

/// What the backward reads.
pub(super) struct Backward<'a> {
    /// The layer's geometry.
    pub g: Geometry,
    /// Filters.
    pub out: usize,
    /// The input, `n` images.
    pub x: &'a [f32],
    /// The filters, `window_len × out` row-major.
    pub kernel: &'a [f32],
    /// The output (read for the ReLU's mask when `relu`).
    pub y: &'a [f32],
    /// The output's gradient.
    pub g_out: &'a [f32],
    /// Whether the epilogue applied a ReLU.
    pub relu: bool,
}

impl Backward<'_> {
    /// Accumulates the kernel's gradient into `grad_kernel`, the bias's into `grad_bias` and,
    /// when given, the input's into `grad_x`. The images are split into one contiguous run per
    /// task (a few per rayon thread); each task walks its run block by block (masking the
    /// upstream gradient with the ReLU, packing the block's windows, `colsᵀ · g` into its own
    /// partial kernel gradient, `g · kernelᵀ` unpacked onto its images' input gradient), then
    /// the partial sums are added in task order.
    pub fn run(
        &self,
        grad_kernel: &mut [f32],
        grad_bias: &mut [f32],
        grad_x: Option<&mut [f32]>,
    ) -> Result<()> {
        let g = &self.g;
        let n = self.x.len() / g.image_len();
        if n == 0 {
            return Ok(());
        }
        let tasks = (4 * rayon::current_num_threads()).clamp(1, n);
        let per_task = n.div_ceil(tasks);
        let tasks = n.div_ceil(per_task);
        let partial_len = g.window_len() * self.out + self.out;
        let mut partials = vec![0.0f32; tasks * partial_len];
        let mut dx: Vec<Option<&mut [f32]>> = match grad_x {
            Some(d) => d.chunks_mut(per_task * g.image_len()).map(Some).collect(),
            None => (0..tasks).map(|_| None).collect(),
        };
        let work: Vec<_> = partials
            .chunks_mut(partial_len)
            .zip(dx.iter_mut())
            .enumerate()
            .collect();
        work.into_par_iter().try_for_each(|(t, (partial, dx))| {
            let first = t * per_task;
            let images = per_task.min(n - first);
            self.task(first, images, partial, dx.as_deref_mut())
        })?;
        for partial in partials.chunks_exact(partial_len) {
            let (pk, pb) = partial.split_at(g.window_len() * self.out);
            grad_kernel.iter_mut().zip(pk).for_each(|(d, s)| *d += s);
            grad_bias.iter_mut().zip(pb).for_each(|(d, s)| *d += s);
        }
        Ok(())
    }

    /// One task: images `first..first + images`, their kernel and bias gradients added to
    /// `partial` (kernel then bias), their input gradient to `dx` when given.
    fn task(
        &self,
        first: usize,
        images: usize,
        partial: &mut [f32],
        mut dx: Option<&mut [f32]>,
    ) -> Result<()> {
        let g = &self.g;
        let (out, wl, px) = (self.out, g.window_len(), g.out_pixels());
        let (pk, pb) = partial.split_at_mut(wl * out);
        let w = rows(self.kernel, wl, out)?;
        let per_block = images_per_block(g);
        with_scratch(|cols, masked, dcols| {
            let mut done = 0;
            while done < images {
                let count = per_block.min(images - done);
                let start = first + done;
                let m = count * px;
                let range = start * px * out..(start + count) * px * out;
                let g_blk = &self.g_out[range.clone()];
                let g_blk: &[f32] = if self.relu {
                    masked.clear();
                    masked.extend(g_blk.iter().zip(&self.y[range]).map(|(&g, &y)| {
                        if y > 0.0 {
                            g
                        } else {
                            0.0
                        }
                    }));
                    masked
                } else {
                    g_blk
                };
                for row in g_blk.chunks_exact(out) {
                    pb.iter_mut().zip(row).for_each(|(s, v)| *s += v);
                }
                let x_blk = &self.x[start * g.image_len()..(start + count) * g.image_len()];
                if wl <= DIRECT_MAX_WINDOW {
                    let mut dx_images = dx.as_deref_mut().map(|dx| {
                        dx[done * g.image_len()..(done + count) * g.image_len()]
                            .chunks_exact_mut(g.image_len())
                    });
                    for (image, grad) in x_blk
                        .chunks_exact(g.image_len())
                        .zip(g_blk.chunks_exact(px * out))
                    {
                        let dx_image = dx_images.as_mut().and_then(Iterator::next);
                        direct::backward_image(g, image, self.kernel, grad, pk, dx_image);
                    }
                    done += count;
                    continue;
                }
                cols.resize(m * wl, 0.0);
                for (image, cols) in x_blk
                    .chunks_exact(g.image_len())
                    .zip(cols.chunks_exact_mut(px * wl))
                {
                    g.im2col(image, cols);
                }
                let g_rows = rows(g_blk, m, out)?;
                matmul_serial(pk, rows(cols, m, wl)?.t(), g_rows, Start::Accumulate, false)?;
                if let Some(dx) = dx.as_deref_mut() {
                    dcols.resize(m * wl, 0.0);
                    matmul_serial(dcols, g_rows, w.t(), Start::Zero, false)?;
                    let dx_blk = &mut dx[done * g.image_len()..(done + count) * g.image_len()];
                    for (image, cols) in dx_blk
                        .chunks_exact_mut(g.image_len())
                        .zip(dcols.chunks_exact(px * wl))
                    {
                        g.col2im_add(cols, image);
                    }
                }
                done += count;
            }
            Ok::<(), Error>(())
        })
    }
}
