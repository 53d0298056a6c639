//! The convolution without window packing, for layers whose windows are short (`k * k * c`
//! of at most [`DIRECT_MAX_WINDOW`], such as a first layer on one-channel images): each output
//! pixel's filters are accumulated straight from the input, vectorized over the filters. There a
//! matrix product of depth `k * k * c` would spend more on packing and its own set-up than on
//! arithmetic.

use super::geometry::Geometry;

/// Windows of at most this many values take the direct path.
pub(super) const DIRECT_MAX_WINDOW: usize = 16;

/// Calls `f(j, at)` for every window element `j` (in `(ky, kx, c)` order) of output pixel
/// `(oy, ox)` that lies inside the image, `at` being its offset in the image.
#[inline]
fn for_each_tap(g: &Geometry, oy: usize, ox: usize, mut f: impl FnMut(usize, usize)) {
    for ky in 0..g.k {
        let Some(iy) = (oy * g.s + ky).checked_sub(g.p).filter(|&iy| iy < g.h) else {
            continue;
        };
        for kx in 0..g.k {
            let Some(ix) = (ox * g.s + kx).checked_sub(g.p).filter(|&ix| ix < g.w) else {
                continue;
            };
            for ch in 0..g.c {
                f((ky * g.k + kx) * g.c + ch, (iy * g.w + ix) * g.c + ch);
            }
        }
    }
}

/// `y = epilogue(conv(image) + bias)` for one image: `kernel` is `window_len × out`
/// row-major, `y` `out_pixels × out`.
pub(super) fn forward_image(
    g: &Geometry,
    image: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    let out = bias.len();
    let mut rows = y.chunks_exact_mut(out);
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let Some(acc) = rows.next() else { return };
            acc.copy_from_slice(bias);
            for_each_tap(g, oy, ox, |j, at| {
                let v = image[at];
                acc.iter_mut()
                    .zip(&kernel[j * out..(j + 1) * out])
                    .for_each(|(a, w)| *a += v * w);
            });
            if relu {
                acc.iter_mut()
                    .for_each(|a| *a = crate::kernels::relu_f32(*a));
            }
        }
    }
}

/// Adds one image's kernel gradient `imageᵀ-windows · g` to `grad_kernel` (`window_len × out`)
/// and, when given, its input gradient `g · kernelᵀ` (unpacked onto the pixels) to `dx`; `g`
/// is the (masked) upstream gradient, `out_pixels × out`.
pub(super) fn backward_image(
    g: &Geometry,
    image: &[f32],
    kernel: &[f32],
    grad: &[f32],
    grad_kernel: &mut [f32],
    mut dx: Option<&mut [f32]>,
) {
    let out = grad_kernel.len() / g.window_len().max(1);
    let mut rows = grad.chunks_exact(out);
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let Some(gr) = rows.next() else { return };
            for_each_tap(g, oy, ox, |j, at| {
                let v = image[at];
                grad_kernel[j * out..(j + 1) * out]
                    .iter_mut()
                    .zip(gr)
                    .for_each(|(d, g)| *d += v * g);
                if let Some(dx) = dx.as_deref_mut() {
                    dx[at] += kernel[j * out..(j + 1) * out]
                        .iter()
                        .zip(gr)
                        .map(|(w, g)| w * g)
                        .sum::<f32>();
                }
            });
        }
    }
}
