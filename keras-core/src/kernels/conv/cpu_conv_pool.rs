//! Inference on `Cpu` in `f32`: a convolution, its epilogue and the max pooling that follows
//! it, per block of images on rayon's threads. Each block's convolution output is written to a
//! thread-local buffer the size of the core's cache and pooled from there, so the pre-pool
//! activation (11 MB for the first layer of Keras's MNIST convnet at batch 128) is never
//! written to memory, zeroed first or read back.
//!
//! The convolution of a block is [`cpu_conv::forward_block`] and the pooling of an image
//! [`cpu_max_pool::forward_image`], on the same blocks as the unfused ops, so the result is the
//! unfused forward's bit for bit (NaNs included). A short-window convolution whose pooling
//! windows do not overlap runs, on AVX-512, as one kernel that pools in registers
//! ([`direct_avx512::try_forward_pooled_image`], the same bits).

use rayon::prelude::*;

use super::cpu_conv::{self, images_per_block, with_scratch};
use super::cpu_max_pool;
use super::direct::DIRECT_MAX_WINDOW;
use super::direct_avx512;
use super::geometry::Geometry;
use crate::Result;

/// `y = max_pool(epilogue(conv(x) + bias))`: `conv` is the convolution's geometry (`out`
/// filters, `kernel` `window_len × out` row-major), `pool` the pooling's over the convolution's
/// output (`pool.c == out`, no padding); `x` holds `n` images, `y` their `n * pool.out_pixels()
/// × out` pooled values.
#[allow(clippy::too_many_arguments)]
pub(super) fn forward(
    conv: &Geometry,
    out: usize,
    pool: &Geometry,
    x: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) -> Result<()> {
    let n = x.len() / conv.image_len().max(1);
    // The pooling's windows cover the convolution's first `(oh - 1) * s + k` rows and columns
    // only (Keras's "valid" pooling drops the rest: 10 of 11 for W4's second convolution);
    // the others are never computed.
    let (conv, pool) = &cropped(conv, pool);
    let per_block = if conv.window_len() <= DIRECT_MAX_WINDOW {
        // The direct path works image by image: any block gives the same values, so blocks
        // only balance the threads (four per thread) within the cache-sized bound.
        n.div_ceil(4 * rayon::current_num_threads())
            .clamp(1, images_per_block(conv))
    } else {
        // The product's blocks of the unfused op, so that each row is computed as there.
        images_per_block(conv)
    };
    let (activation, pooled) = (conv.out_pixels() * out, pool.out_pixels() * out);
    y.par_chunks_mut(per_block * pooled)
        .zip(x.par_chunks(per_block * conv.image_len()))
        .try_for_each(|(y, x)| {
            // Short windows inside the image, on AVX-512: the pooling runs in the
            // convolution's registers and only pooled values are written (the same bits).
            let mut images = x
                .chunks_exact(conv.image_len())
                .zip(y.chunks_exact_mut(pooled));
            if conv.window_len() <= DIRECT_MAX_WINDOW
                && images.all(|(x, y)| {
                    direct_avx512::try_forward_pooled_image(conv, pool, x, kernel, bias, relu, y)
                })
            {
                return Ok(());
            }
            with_scratch(|cols, act, _| {
                let images = x.len() / conv.image_len();
                // Every value is written by the convolution before it is read.
                act.resize(images * activation, 0.0);
                cpu_conv::forward_block(conv, out, x, kernel, bias, relu, act, cols)?;
                for (a, y) in act.chunks_exact(activation).zip(y.chunks_exact_mut(pooled)) {
                    cpu_max_pool::forward_image(pool, a, y);
                }
                Ok(())
            })
        })
}

/// `conv` with only the output rows and columns `pool` reads, and `pool` over that output.
fn cropped(conv: &Geometry, pool: &Geometry) -> (Geometry, Geometry) {
    let used = |out: usize, input: usize| {
        if out == 0 || pool.p != 0 {
            return input;
        }
        ((out - 1) * pool.s + pool.k).min(input)
    };
    let (h, w) = (used(pool.oh, pool.h), used(pool.ow, pool.w));
    (
        Geometry {
            oh: h,
            ow: w,
            ..*conv
        },
        Geometry { h, w, ..*pool },
    )
}
