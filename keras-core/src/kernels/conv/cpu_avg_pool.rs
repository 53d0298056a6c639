//! Average pooling on `Cpu` in `f32`: each window summed in reading order and divided by its
//! size (Keras on JAX: `reduce_window(add) / prod(pool_size)`), vectorized over the channels,
//! images split across rayon's threads. The backward adds each window's gradient, divided by
//! the window's size, to every pixel of the window, window after window; no index tensors.

use rayon::prelude::*;

use super::geometry::Geometry;
use super::wide::vectorized;

/// Values per parallel task, at least (below this an image is too small to pay for a task).
const MIN_TASK_VALUES: usize = 16 * 1024;

/// Images per task for `n` images of `g`.
fn per_task(g: &Geometry, n: usize) -> usize {
    let threads = rayon::current_num_threads();
    let by_size = MIN_TASK_VALUES.div_ceil(g.image_len().max(1));
    n.div_ceil(4 * threads).max(by_size).max(1)
}

/// The offset of window pixel `(ky, kx)` of output pixel `(oy, ox)` in an image.
#[inline(always)]
fn pixel(g: &Geometry, oy: usize, ox: usize, ky: usize, kx: usize) -> usize {
    ((oy * g.s + ky) * g.w + ox * g.s + kx) * g.c
}

/// The number of values a window averages, as the divisor.
fn window_size(g: &Geometry) -> f32 {
    (g.k * g.k) as f32
}

/// `y` = the mean of each window of `x` (geometry `g`, no padding), per channel.
pub(super) fn forward(g: &Geometry, x: &[f32], y: &mut [f32]) {
    let n = x.len() / g.image_len().max(1);
    let per = per_task(g, n);
    let pooled = g.out_pixels() * g.c;
    y.par_chunks_mut(per * pooled)
        .zip(x.par_chunks(per * g.image_len()))
        .for_each(|(y, x)| {
            for (image, y) in x
                .chunks_exact(g.image_len())
                .zip(y.chunks_exact_mut(pooled))
            {
                forward_image(g, image, y);
            }
        });
}

vectorized! {
    /// The means of one image's windows.
    fn forward_image(g: &Geometry, image: &[f32], y: &mut [f32]) => forward_loop;
}

#[inline(always)]
fn forward_loop(g: &Geometry, image: &[f32], y: &mut [f32]) {
    let (c, size) = (g.c, window_size(g));
    let mut outs = y.chunks_exact_mut(c);
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let Some(o) = outs.next() else { return };
            o.fill(0.0);
            for ky in 0..g.k {
                for kx in 0..g.k {
                    let at = pixel(g, oy, ox, ky, kx);
                    for (o, &v) in o.iter_mut().zip(&image[at..at + c]) {
                        *o += v;
                    }
                }
            }
            for o in o.iter_mut() {
                *o /= size;
            }
        }
    }
}

/// Adds each window's upstream gradient `g_out`, divided by the window's size, to the input
/// gradient `dx` at every pixel of the window, the windows in order (`oy`, then `ox`).
pub(super) fn backward(g: &Geometry, g_out: &[f32], dx: &mut [f32]) {
    let n = dx.len() / g.image_len().max(1);
    let per = per_task(g, n);
    let pooled = g.out_pixels() * g.c;
    dx.par_chunks_mut(per * g.image_len())
        .zip(g_out.par_chunks(per * pooled))
        .for_each(|(dx, g_out)| {
            for (dx, g_out) in dx
                .chunks_exact_mut(g.image_len())
                .zip(g_out.chunks_exact(pooled))
            {
                backward_image(g, g_out, dx);
            }
        });
}

vectorized! {
    /// One image's share of [`backward`].
    fn backward_image(g: &Geometry, g_out: &[f32], dx: &mut [f32]) => backward_loop;
}

#[inline(always)]
fn backward_loop(g: &Geometry, g_out: &[f32], dx: &mut [f32]) {
    let (c, size) = (g.c, window_size(g));
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let o = (oy * g.ow + ox) * c;
            let grad = &g_out[o..o + c];
            for ky in 0..g.k {
                for kx in 0..g.k {
                    let at = pixel(g, oy, ox, ky, kx);
                    for (d, &g) in dx[at..at + c].iter_mut().zip(grad) {
                        *d += g / size;
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
    fn pooling_averages_each_window_and_spreads_its_gradient_over_it() {
        // one 3x3 single-channel image, overlapping 2x2 windows of stride 1
        let g = Geometry::of::<3, 3, 1, 2, 1, 0, 2, 2>();
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let mut y = [0.0; 4];
        forward(&g, &x, &mut y);
        assert_eq!(y, [3.0, 4.0, 6.0, 7.0]);
        let mut dx = [1.0; 9];
        backward(&g, &[4.0, 8.0, 12.0, 16.0], &mut dx);
        // the centre is in every window: 1 + (4 + 8 + 12 + 16) / 4
        assert_eq!(dx, [2.0, 4.0, 3.0, 5.0, 11.0, 7.0, 4.0, 8.0, 5.0]);
    }

    #[test]
    fn pooling_matches_its_definition_per_channel_with_a_nan() {
        let g = Geometry::of::<7, 6, 19, 3, 2, 0, 3, 2>();
        let mut x: Vec<f32> = (0..2 * g.image_len())
            .map(|v| ((v * 37) % 101) as f32 - 50.0)
            .collect();
        x[(g.w + 1) * g.c + 17] = f32::NAN;
        let mut y = vec![0.0; 2 * g.out_pixels() * g.c];
        forward(&g, &x, &mut y);
        for image in 0..2 {
            for oy in 0..g.oh {
                for ox in 0..g.ow {
                    for ch in 0..g.c {
                        let sum: f32 = (0..9)
                            .map(|t| {
                                let (r, q) = (oy * 2 + t / 3, ox * 2 + t % 3);
                                x[image * g.image_len() + (r * g.w + q) * g.c + ch]
                            })
                            .sum();
                        let got = y[(image * g.out_pixels() + oy * g.ow + ox) * g.c + ch];
                        assert!(
                            got == sum / 9.0 || (got.is_nan() && sum.is_nan()),
                            "({image}, {oy}, {ox}, {ch}): {got} vs {}",
                            sum / 9.0
                        );
                    }
                }
            }
        }
        assert!(y.iter().any(|v| v.is_nan()));
    }
}
