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

/// `y = epilogue(conv(image) + bias)` for one image: `kernel` is `window_len × out`
/// row-major, `y` `out_pixels × out`. Windows inside the image on a CPU with AVX-512 run
/// [`direct_avx512`](super::direct_avx512) (the same bits), the others [`forward_loop`].
pub(super) fn forward_image(
    g: &Geometry,
    image: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) {
    if !super::direct_avx512::try_forward_image(g, image, kernel, bias, relu, y) {
        forward_image_looped(g, image, kernel, bias, relu, y);
    }
}

vectorized! {
    /// [`forward_image`] by the vectorized loop, for any geometry.
    pub(super) fn forward_image_looped(
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

/// A window's values with room for one whole vector past its end (see [`taps_of`]).
type Taps = [f32; 2 * DIRECT_MAX_WINDOW];

/// The window values of output pixel `(oy, ox)` in `taps[..window_len]` (zeros where the
/// window leaves the image).
#[inline(always)]
fn taps_of(g: &Geometry, image: &[f32], oy: usize, ox: usize, taps: &mut Taps) {
    let row = g.k * g.c;
    let (top, left) = (oy * g.s, ox * g.s);
    if top >= g.p && left >= g.p && top - g.p + g.k <= g.h && left - g.p + g.k <= g.w {
        for ky in 0..g.k {
            let from = ((top - g.p + ky) * g.w + left - g.p) * g.c;
            // A whole vector per window row where the image has it (one load and one store,
            // where a copy of `row` values would be a call to `memcpy`); what lands past the
            // row is overwritten by the next row or lies past the window.
            match image.get(from..from + DIRECT_MAX_WINDOW) {
                Some(run) => taps[ky * row..ky * row + DIRECT_MAX_WINDOW].copy_from_slice(run),
                None => taps[ky * row..(ky + 1) * row].copy_from_slice(&image[from..from + row]),
            }
        }
        return;
    }
    taps[..g.window_len()].fill(0.0);
    for_each_tap(g, oy, ox, |j, offset| taps[j] = image[offset]);
}

/// Output pixels computed together in [`forward_loop`]: each filter vector loaded once serves
/// this many pixels' accumulators.
const PIXELS: usize = 4;

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
    let finish = |a: f32| if relu { crate::kernels::relu_f32(a) } else { a };
    let mut taps: [Taps; PIXELS] = [[0.0; 2 * DIRECT_MAX_WINDOW]; PIXELS];
    for oy in 0..g.oh {
        let mut ox = 0;
        while ox < g.ow {
            // PIXELS output pixels of this row at once (fewer at the row's end); each pixel's
            // sums run in the same order as one at a time, so the result is the same.
            let n = PIXELS.min(g.ow - ox);
            for (p, taps) in taps.iter_mut().enumerate().take(n) {
                taps_of(g, image, oy, ox + p, taps);
            }
            let at = (oy * g.ow + ox) * out;
            let Some(rows) = y.get_mut(at..at + n * out) else {
                return;
            };
            // Vectors of LANES filters, each summed over the window in registers: two vectors
            // at a time while there are (eight accumulators for PIXELS pixels), then one.
            let mut first = 0;
            while first + 2 * LANES <= out {
                filter_vectors::<2>(kernel, bias, wl, first, &taps, n, rows, &finish);
                first += 2 * LANES;
            }
            while first + LANES <= out {
                filter_vectors::<1>(kernel, bias, wl, first, &taps, n, rows, &finish);
                first += LANES;
            }
            for (row, taps) in rows.chunks_exact_mut(out).zip(&taps) {
                for (o, r) in row.iter_mut().enumerate().skip(first) {
                    let mut a = bias[o];
                    for (j, &t) in taps[..wl].iter().enumerate() {
                        a += t * kernel[j * out + o];
                    }
                    *r = finish(a);
                }
            }
            ox += n;
        }
    }
}

/// Filters `first .. first + V * LANES` of `n` (at most PIXELS) output pixels whose windows
/// are `taps`, written to `rows` (`n` rows of `out` values) through `finish`. Each filter's sum
/// runs over the window in order, from its bias.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
fn filter_vectors<const V: usize>(
    kernel: &[f32],
    bias: &[f32],
    wl: usize,
    first: usize,
    taps: &[Taps; PIXELS],
    n: usize,
    rows: &mut [f32],
    finish: &impl Fn(f32) -> f32,
) {
    let out = bias.len();
    let mut acc = [[[0.0f32; LANES]; V]; PIXELS];
    for acc in acc.iter_mut() {
        for (v, acc) in acc.iter_mut().enumerate() {
            let at = first + v * LANES;
            acc.copy_from_slice(&bias[at..at + LANES]);
        }
    }
    for j in 0..wl {
        let mut w = [[0.0f32; LANES]; V];
        for (v, w) in w.iter_mut().enumerate() {
            let at = j * out + first + v * LANES;
            w.copy_from_slice(&kernel[at..at + LANES]);
        }
        // All PIXELS pixels, also when fewer are real: the others' taps are stale values of
        // this buffer and their sums are not stored.
        for (acc, taps) in acc.iter_mut().zip(taps) {
            let t = taps[j];
            for (acc, w) in acc.iter_mut().zip(&w) {
                for (a, w) in acc.iter_mut().zip(w) {
                    *a += t * w;
                }
            }
        }
    }
    for (row, acc) in rows.chunks_exact_mut(out).zip(&acc).take(n) {
        for (v, acc) in acc.iter().enumerate() {
            let at = first + v * LANES;
            for (r, &a) in row[at..at + LANES].iter_mut().zip(acc) {
                *r = finish(a);
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

#[cfg(test)]
mod tests {
    use super::forward_image;
    use crate::kernels::conv::geometry::Geometry;

    /// The convolution by its definition, one product at a time in window order.
    fn naive(g: &Geometry, image: &[f32], kernel: &[f32], bias: &[f32], relu: bool) -> Vec<f32> {
        let out = bias.len();
        let mut y = Vec::new();
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                for (o, &b) in bias.iter().enumerate() {
                    let mut a = b;
                    for ky in 0..g.k {
                        for kx in 0..g.k {
                            for ch in 0..g.c {
                                let iy = (oy * g.s + ky) as isize - g.p as isize;
                                let ix = (ox * g.s + kx) as isize - g.p as isize;
                                let inside = (0..g.h as isize).contains(&iy)
                                    && (0..g.w as isize).contains(&ix);
                                let t = if inside {
                                    image[(iy as usize * g.w + ix as usize) * g.c + ch]
                                } else {
                                    0.0
                                };
                                a += t * kernel[((ky * g.k + kx) * g.c + ch) * out + o];
                            }
                        }
                    }
                    y.push(if relu { a.max(0.0) } else { a });
                }
            }
        }
        y
    }

    #[test]
    fn the_direct_convolution_matches_its_definition_bit_for_bit() {
        // Rows whose width is no multiple of the pixels computed together, filter counts with
        // and without a partial vector, strides, padding, windows up to 16 values.
        for (h, w, c, k, s, p) in [
            (5, 7, 1, 3, 1, 0),
            (5, 7, 1, 3, 1, 1),
            (6, 9, 1, 3, 2, 1),
            (4, 4, 2, 2, 2, 0),
            (7, 6, 1, 4, 3, 3),
            (3, 5, 1, 3, 1, 2),
        ] {
            let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
            let g = Geometry {
                h,
                w,
                c,
                k,
                s,
                p,
                oh,
                ow,
            };
            for out in [3, 16, 20, 32] {
                let image: Vec<f32> = (0..g.image_len())
                    .map(|v| ((v * 13) % 17) as f32 / 8.0 - 1.0)
                    .collect();
                let kernel: Vec<f32> = (0..g.window_len() * out)
                    .map(|v| ((v * 7) % 11) as f32 / 10.0 - 0.5)
                    .collect();
                let bias: Vec<f32> = (0..out).map(|o| o as f32 / 10.0 - 0.3).collect();
                for relu in [false, true] {
                    let mut y = vec![f32::NAN; g.out_pixels() * out];
                    forward_image(&g, &image, &kernel, &bias, relu, &mut y);
                    assert_eq!(
                        y,
                        naive(&g, &image, &kernel, &bias, relu),
                        "{g:?} out {out}"
                    );
                }
            }
        }
    }
}
