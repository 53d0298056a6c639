//! Max pooling on `Cpu` in `f32`: each window read once, vectorized over the channels, images
//! split across rayon's threads. The backward finds each window's maximum again (the first
//! element equal to it, or the first NaN) instead of keeping indices.

use rayon::prelude::*;

use super::geometry::Geometry;
use super::wide::vectorized;

/// Images per parallel task, at least (below this an image is too small to pay for a task).
const MIN_TASK_VALUES: usize = 16 * 1024;

/// Images per task for `n` images of `g`.
fn per_task(g: &Geometry, n: usize) -> usize {
    let threads = rayon::current_num_threads();
    let by_size = MIN_TASK_VALUES.div_ceil(g.image_len().max(1));
    n.div_ceil(4 * threads).max(by_size).max(1)
}

/// `a` or `b`, whichever is larger, NaN if either is (`f32::max` would drop a NaN).
#[inline(always)]
fn max_nan(a: f32, b: f32) -> f32 {
    if b > a || b.is_nan() {
        b
    } else {
        a
    }
}

/// The offset of window pixel `(ky, kx)` of output pixel `(oy, ox)` in an image.
#[inline(always)]
fn pixel(g: &Geometry, oy: usize, ox: usize, ky: usize, kx: usize) -> usize {
    ((oy * g.s + ky) * g.w + ox * g.s + kx) * g.c
}

/// `y` = the maximum of each window of `x` (geometry `g`, no padding), per channel.
pub(super) fn forward(g: &Geometry, x: &[f32], y: &mut [f32]) {
    let n = x.len() / g.image_len().max(1);
    let per = per_task(g, n);
    let c = g.c;
    y.par_chunks_mut(per * g.out_pixels() * c)
        .zip(x.par_chunks(per * g.image_len()))
        .for_each(|(y, x)| {
            for (image, y) in x
                .chunks_exact(g.image_len())
                .zip(y.chunks_exact_mut(g.out_pixels() * c))
            {
                forward_image(g, image, y);
            }
        });
}

vectorized! {
    /// The maxima of one image's windows.
    pub(super) fn forward_image(g: &Geometry, image: &[f32], y: &mut [f32]) => forward_loop;
}

/// Channels pooled together in [`forward_loop`]: one AVX-512 register of `f32`.
const LANES: usize = 16;

#[inline(always)]
fn forward_loop(g: &Geometry, image: &[f32], y: &mut [f32]) {
    let c = g.c;
    let mut outs = y.chunks_exact_mut(c);
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let Some(o) = outs.next() else { return };
            // Groups of LANES channels, each kept in a register over the whole window and
            // stored once; then the remaining channels the same way, one at a time.
            let mut first = 0;
            while first + LANES <= c {
                let at = pixel(g, oy, ox, 0, 0) + first;
                let Ok(start) = <[f32; LANES]>::try_from(&image[at..at + LANES]) else {
                    return;
                };
                let mut m = start;
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        let at = pixel(g, oy, ox, ky, kx) + first;
                        let Ok(v) = <&[f32; LANES]>::try_from(&image[at..at + LANES]) else {
                            return;
                        };
                        for (m, &v) in m.iter_mut().zip(v) {
                            *m = max_nan(*m, v);
                        }
                    }
                }
                o[first..first + LANES].copy_from_slice(&m);
                first += LANES;
            }
            for (ch, o) in o.iter_mut().enumerate().skip(first) {
                let mut m = image[pixel(g, oy, ox, 0, 0) + ch];
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        m = max_nan(m, image[pixel(g, oy, ox, ky, kx) + ch]);
                    }
                }
                *o = m;
            }
        }
    }
}

/// Adds each window's upstream gradient `g_out` to the input gradient `dx` at the window's
/// maximum: the first element that equals the pooled value `y` (or the first NaN, where `y` is
/// NaN). One element per window and channel gets it, as with Keras on JAX.
pub(super) fn backward(g: &Geometry, x: &[f32], y: &[f32], g_out: &[f32], dx: &mut [f32]) {
    let n = x.len() / g.image_len().max(1);
    let per = per_task(g, n);
    let (c, pooled) = (g.c, g.out_pixels() * g.c);
    dx.par_chunks_mut(per * g.image_len())
        .zip(x.par_chunks(per * g.image_len()))
        .zip(
            y.par_chunks(per * pooled)
                .zip(g_out.par_chunks(per * pooled)),
        )
        .for_each(|((dx, x), (y, g_out))| {
            let mut pending = Vec::with_capacity(c);
            for (((dx, image), y), g_out) in dx
                .chunks_exact_mut(g.image_len())
                .zip(x.chunks_exact(g.image_len()))
                .zip(y.chunks_exact(pooled))
                .zip(g_out.chunks_exact(pooled))
            {
                backward_image(g, image, y, g_out, dx, &mut pending);
            }
        });
}

vectorized! {
    /// One image's share of [`backward`]; `pending` is scratch space.
    fn backward_image(
        g: &Geometry,
        image: &[f32],
        y: &[f32],
        g_out: &[f32],
        dx: &mut [f32],
        pending: &mut Vec<bool>,
    ) => backward_loop;
}

#[inline(always)]
fn backward_loop(
    g: &Geometry,
    image: &[f32],
    y: &[f32],
    g_out: &[f32],
    dx: &mut [f32],
    pending: &mut Vec<bool>,
) {
    let c = g.c;
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let o = (oy * g.ow + ox) * c;
            let (m, grad) = (&y[o..o + c], &g_out[o..o + c]);
            // Whether each channel still waits for its maximum, the window read in order (one
            // pass per window pixel, vectorized over the channels).
            pending.clear();
            pending.resize(c, true);
            for ky in 0..g.k {
                for kx in 0..g.k {
                    let at = pixel(g, oy, ox, ky, kx);
                    for ((((d, &v), &m), &g), p) in dx[at..at + c]
                        .iter_mut()
                        .zip(&image[at..at + c])
                        .zip(m)
                        .zip(grad)
                        .zip(pending.iter_mut())
                    {
                        #[allow(clippy::eq_op)]
                        let hit = *p & (v == m || (m != m && v != v));
                        *d += if hit { g } else { 0.0 };
                        *p &= !hit;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backward, forward};
    use crate::kernels::conv::geometry::Geometry;

    #[test]
    fn pooling_takes_the_first_maximum_and_keeps_nan() {
        // one 2x4 single-channel image, 2x2 windows: [1, 3 | 3, 0] and [NaN, 2 | 5, 5]
        let g = Geometry {
            h: 2,
            w: 4,
            c: 1,
            k: 2,
            s: 2,
            p: 0,
            oh: 1,
            ow: 2,
        };
        let x = [1.0, 3.0, f32::NAN, 2.0, 3.0, 0.0, 5.0, 5.0];
        let mut y = [0.0; 2];
        forward(&g, &x, &mut y);
        assert_eq!(y[0], 3.0);
        assert!(y[1].is_nan());
        let mut dx = [0.0; 8];
        backward(&g, &x, &y, &[10.0, 20.0], &mut dx);
        assert_eq!(dx, [0.0, 10.0, 20.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
    }
    #[test]
    fn pooling_matches_its_definition_across_vector_and_remaining_channels() {
        // 35 channels: two vectors of 16 and 3 more; overlapping 3x3 windows with stride 2.
        let (h, w, c) = (7, 6, 35);
        let g = Geometry {
            h,
            w,
            c,
            k: 3,
            s: 2,
            p: 0,
            oh: 3,
            ow: 2,
        };
        let mut x: Vec<f32> = (0..h * w * c)
            .map(|v| ((v * 37) % 101) as f32 - 50.0)
            .collect();
        x[(w + 1) * c + 17] = f32::NAN; // a channel of the second vector
        x[(2 * w + 2) * c + 33] = f32::NAN; // in the remaining channels
        let mut y = vec![0.0; g.out_pixels() * c];
        forward(&g, &x, &mut y);
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                for ch in 0..c {
                    let window: Vec<f32> = (0..9)
                        .map(|t| x[((oy * 2 + t / 3) * w + ox * 2 + t % 3) * c + ch])
                        .collect();
                    let got = y[(oy * g.ow + ox) * c + ch];
                    if window.iter().any(|v| v.is_nan()) {
                        assert!(got.is_nan(), "({oy}, {ox}, {ch})");
                    } else {
                        let want = window.iter().copied().fold(f32::MIN, f32::max);
                        assert_eq!(got, want, "({oy}, {ox}, {ch})");
                    }
                }
            }
        }
        assert!(y.iter().filter(|v| v.is_nan()).count() >= 2);
    }
}
