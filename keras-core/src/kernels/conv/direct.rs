//! The convolution without window packing, for layers whose windows are short (`k * k * c`
//! of at most [`DIRECT_MAX_WINDOW`], such as a first layer on one-channel images): each output
//! pixel's filters are accumulated straight from the input, vectorized over the filters. There a
//! matrix product of depth `k * k * c` would spend more on packing and its own set-up than on
//! arithmetic.

use super::geometry::Geometry;
use super::wide::vectorized;

/// Windows of at most this many values take the direct path.
pub(super) const DIRECT_MAX_WINDOW: usize = 16;

/// Calls `f(j, at)` for every window element `j` (in `(ky, kx, c)` order) of output pixel
/// `(oy, ox)` that lies inside the image, `at` being its offset in the image.
#[inline(always)]
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

vectorized! {
    /// `y = epilogue(conv(image) + bias)` for one image: `kernel` is `window_len × out`
    /// row-major, `y` `out_pixels × out`.
    pub(super) fn forward_image(
        g: &Geometry,
        image: &[f32],
        kernel: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) => forward_loop;
}

/// Filters per vector of the direct path's loops (one AVX-512 register of `f32`).
const LANES: usize = 16;

/// Gathers output pixel `(oy, ox)`'s window (zeros over the padding) into `taps[..window_len]`
/// and each element's offset in the image into `at` (`usize::MAX` over the padding).
#[inline(always)]
fn gather(
    g: &Geometry,
    image: &[f32],
    oy: usize,
    ox: usize,
    taps: &mut [f32; DIRECT_MAX_WINDOW],
    at: &mut [usize; DIRECT_MAX_WINDOW],
) {
    let (wl, row) = (g.window_len(), g.k * g.c);
    let (top, left) = (oy * g.s, ox * g.s);
    if top >= g.p && left >= g.p && top - g.p + g.k <= g.h && left - g.p + g.k <= g.w {
        // The whole window is inside the image: `k` runs of `k * c` contiguous values.
        for ky in 0..g.k {
            let from = ((top - g.p + ky) * g.w + left - g.p) * g.c;
            taps[ky * row..(ky + 1) * row].copy_from_slice(&image[from..from + row]);
            for (i, a) in at[ky * row..(ky + 1) * row].iter_mut().enumerate() {
                *a = from + i;
            }
        }
        return;
    }
    taps[..wl].fill(0.0);
    at[..wl].fill(usize::MAX);
    for_each_tap(g, oy, ox, |j, offset| {
        taps[j] = image[offset];
        at[j] = offset;
    });
}

#[inline(always)]
fn forward_loop(
    g: &Geometry,
    image: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    let (out, wl) = (bias.len(), g.window_len().min(DIRECT_MAX_WINDOW));
    let (mut taps, mut at) = ([0.0f32; DIRECT_MAX_WINDOW], [0usize; DIRECT_MAX_WINDOW]);
    let mut rows = y.chunks_exact_mut(out);
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let Some(row) = rows.next() else { return };
            gather(g, image, oy, ox, &mut taps, &mut at);
            // Vectors of LANES filters, each summed over the window in a register.
            let mut first = 0;
            while first + LANES <= out {
                let mut acc = [0.0f32; LANES];
                acc.copy_from_slice(&bias[first..first + LANES]);
                for (j, &t) in taps[..wl].iter().enumerate() {
                    let at = j * out + first;
                    let Ok(w) = <&[f32; LANES]>::try_from(&kernel[at..at + LANES]) else {
                        return;
                    };
                    for (a, w) in acc.iter_mut().zip(w) {
                        *a += t * w;
                    }
                }
                for (r, a) in row[first..first + LANES].iter_mut().zip(acc) {
                    *r = if relu { crate::kernels::relu_f32(a) } else { a };
                }
                first += LANES;
            }
            for o in first..out {
                let mut a = bias[o];
                for (j, &t) in taps[..wl].iter().enumerate() {
                    a += t * kernel[j * out + o];
                }
                row[o] = if relu { crate::kernels::relu_f32(a) } else { a };
            }
        }
    }
}

vectorized! {
    /// Adds one image's kernel gradient (its windows transposed times `grad`) to `grad_kernel`
    /// (`window_len × out`) and, when given, its input gradient `grad · kernelᵀ` (unpacked onto
    /// the pixels) to `dx`; `grad` is the (masked) upstream gradient, `out_pixels × out`.
    pub(super) fn backward_image(
        g: &Geometry,
        image: &[f32],
        kernel: &[f32],
        grad: &[f32],
        grad_kernel: &mut [f32],
        dx: Option<&mut [f32]>,
    ) => backward_loop;
}

#[inline(always)]
fn backward_loop(
    g: &Geometry,
    image: &[f32],
    kernel: &[f32],
    grad: &[f32],
    grad_kernel: &mut [f32],
    mut dx: Option<&mut [f32]>,
) {
    let wl = g.window_len().min(DIRECT_MAX_WINDOW);
    let out = grad_kernel.len() / wl.max(1);
    let (mut taps, mut at) = ([0.0f32; DIRECT_MAX_WINDOW], [0usize; DIRECT_MAX_WINDOW]);
    let mut rows = grad.chunks_exact(out);
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let Some(gr) = rows.next() else { return };
            gather(g, image, oy, ox, &mut taps, &mut at);
            for (j, &t) in taps[..wl].iter().enumerate() {
                if at[j] == usize::MAX {
                    continue;
                }
                grad_kernel[j * out..(j + 1) * out]
                    .iter_mut()
                    .zip(gr)
                    .for_each(|(d, g)| *d += t * g);
                if let Some(dx) = dx.as_deref_mut() {
                    dx[at[j]] += kernel[j * out..(j + 1) * out]
                        .iter()
                        .zip(gr)
                        .map(|(w, g)| w * g)
                        .sum::<f32>();
                }
            }
        }
    }
}
