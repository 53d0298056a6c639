//! The direct convolution's AVX-512 kernel for windows inside the image (no padding): the
//! filters of the whole window stay in registers (two 16-filter vectors per window value, so
//! 18 registers for a 3×3 window on one channel) and each input value is broadcast once per
//! output pixel, four pixels at a time. Each filter's sum runs from its bias over the window in
//! order with a separate multiply and add, as [`direct`](super::direct)'s loop does, so the
//! result is that loop's bit for bit.

use super::direct::DIRECT_MAX_WINDOW;
use super::geometry::Geometry;

/// Filters per vector.
const LANES: usize = 16;

/// Output pixels computed together: 4 pixels × 2 vectors = 8 independent sums in flight, beside
/// the window's filters, within AVX-512's 32 registers for windows of up to 9 values.
const PIXELS: usize = 4;

/// Runs [`forward`] when this kernel takes the layer (an x86-64 CPU with AVX-512F, no padding,
/// every window inside the image, filters a multiple of 32, a window of at most
/// [`DIRECT_MAX_WINDOW`] values, buffers of the geometry's lengths); `false` (nothing written)
/// otherwise.
pub(super) fn try_forward_image(
    g: &Geometry,
    image: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) -> bool {
    if !takes(g, image, kernel, bias) || y.len() < g.out_pixels() * bias.len() {
        return false;
    }
    by_window(g.window_len(), |run| {
        run(g, None, image, kernel, bias, relu, y)
    })
}

/// [`try_forward_image`] followed by the max pooling `pool` over the convolution's output,
/// in registers: only the pooled values are written (`y` holds `pool.out_pixels() × out`).
/// Takes pools whose windows do not overlap (`pool.k == pool.s`, no padding); the values are
/// the unfused ops' bit for bit (the pooling keeps the last NaN of a window, as
/// `cpu_max_pool` does).
pub(super) fn try_forward_pooled_image(
    g: &Geometry,
    pool: &Geometry,
    image: &[f32],
    kernel: &[f32],
    bias: &[f32],
    relu: bool,
    y: &mut [f32],
) -> bool {
    let out = bias.len();
    let pooled = pool.p == 0
        && pool.k > 0
        && pool.k == pool.s
        && pool.c == out
        && pool.h == g.oh
        && pool.w == g.ow
        && pool.oh * pool.k <= g.oh
        && pool.ow * pool.k <= g.ow
        && y.len() >= pool.out_pixels() * out;
    if !pooled || !takes(g, image, kernel, bias) {
        return false;
    }
    by_window(g.window_len(), |run| {
        run(g, Some(pool), image, kernel, bias, relu, y)
    })
}

/// Whether the kernel takes convolution `g` with these buffers (the CPU is checked in
/// [`by_window`]).
fn takes(g: &Geometry, image: &[f32], kernel: &[f32], bias: &[f32]) -> bool {
    let (out, wl) = (bias.len(), g.window_len());
    let inside = |o: usize, len: usize| o == 0 || (o - 1) * g.s + g.k <= len;
    out > 0
        && out % (2 * LANES) == 0
        && g.p == 0
        && g.s > 0
        && (1..=DIRECT_MAX_WINDOW).contains(&wl)
        && inside(g.oh, g.h)
        && inside(g.ow, g.w)
        && image.len() >= g.image_len()
        && kernel.len() >= wl * out
}

/// The kernel's entry for this window length.
type Run = fn(&Geometry, Option<&Geometry>, &[f32], &[f32], &[f32], bool, &mut [f32]);

/// Calls `call` with the kernel for windows of `wl` values and returns `true`, on a CPU with
/// AVX-512F; `false` (nothing called) elsewhere.
fn by_window(wl: usize, call: impl FnOnce(Run)) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx512f") {
        macro_rules! by_len {
            ($($n:literal)*) => {
                match wl {
                    $($n => call(x86::run::<$n>),)*
                    _ => return false,
                }
            };
        }
        by_len!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16);
        return true;
    }
    let _ = (wl, call);
    false
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use super::{Geometry, LANES, PIXELS};

    /// [`forward`] (with `pool`: [`forward_pooled`]) behind a safe entry; only handed out by
    /// [`by_window`](super::by_window) once the CPU has AVX-512F.
    pub(super) fn run<const WL: usize>(
        g: &Geometry,
        pool: Option<&Geometry>,
        image: &[f32],
        kernel: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) {
        // SAFETY: `by_window` hands this function out only on a CPU with AVX-512F, and its
        // callers checked the geometry and the buffers' lengths (`takes`, and `y`'s length)
        // that keep every access of `forward` and `forward_pooled` inside the slices.
        unsafe {
            match pool {
                None => forward::<WL>(g, image, kernel, bias, relu, y),
                Some(pool) => forward_pooled::<WL>(g, pool, image, kernel, bias, relu, y),
            }
        }
    }

    /// Each window value's offset from the window's first, in `(ky, kx, c)` order.
    fn offsets<const WL: usize>(g: &Geometry) -> [usize; WL] {
        let mut off = [0usize; WL];
        for (j, o) in off.iter_mut().enumerate() {
            let (ky, kx, ch) = (j / (g.k * g.c), j / g.c % g.k, j % g.c);
            *o = (ky * g.w + kx) * g.c + ch;
        }
        off
    }

    /// Filters `f .. f + 32` of every window value (`WL × out` row-major) and their biases.
    ///
    /// # Safety
    /// `kernel` holds `WL × out` values, `bias` `out`, `f + 32 <= out`; AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn filters<const WL: usize>(
        kernel: &[f32],
        bias: &[f32],
        f: usize,
    ) -> ([[__m512; 2]; WL], [__m512; 2]) {
        let (k, b, out) = (kernel.as_ptr(), bias.as_ptr(), bias.len());
        let mut w = [[_mm512_setzero_ps(); 2]; WL];
        for (j, w) in w.iter_mut().enumerate() {
            // SAFETY: `j * out + f + 32 <= WL * out`, within `kernel`.
            *w = unsafe {
                [
                    _mm512_loadu_ps(k.add(j * out + f)),
                    _mm512_loadu_ps(k.add(j * out + f + LANES)),
                ]
            };
        }
        // SAFETY: `f + 32 <= out`.
        let bias = unsafe { [_mm512_loadu_ps(b.add(f)), _mm512_loadu_ps(b.add(f + LANES))] };
        (w, bias)
    }

    /// `y = epilogue(conv(image) + bias)` for one image whose windows (`WL` values) all lie
    /// inside it.
    ///
    /// # Safety
    /// The CPU has AVX-512F; `g.p == 0`, every window of the `oh × ow` outputs lies inside the
    /// `h × w` image, `image` holds `h * w * c` values, `kernel` `WL × out` (`out =
    /// bias.len()`, a multiple of 32) and `y` `oh * ow * out`.
    #[target_feature(enable = "avx512f")]
    unsafe fn forward<const WL: usize>(
        g: &Geometry,
        image: &[f32],
        kernel: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) {
        let out = bias.len();
        let off = offsets::<WL>(g);
        let (x, yp) = (image.as_ptr(), y.as_mut_ptr());
        let step = g.s * g.c;
        for f in (0..out).step_by(2 * LANES) {
            // SAFETY: `f + 32 <= out` (`out` is a multiple of 32).
            let (w, bias) = unsafe { filters::<WL>(kernel, bias, f) };
            for oy in 0..g.oh {
                let row = oy * g.s * g.w * g.c;
                let mut ox = 0;
                while ox < g.ow {
                    let at = (oy * g.ow + ox) * out + f;
                    // SAFETY: pixels `ox..ox + n` are outputs of row `oy`, whose windows lie
                    // inside the image and whose `out` values lie inside `y`.
                    unsafe {
                        if ox + PIXELS <= g.ow {
                            let bases = std::array::from_fn(|p| x.add(row + (ox + p) * step));
                            let sums = sums::<WL, PIXELS>(bases, &off, &w, bias, relu);
                            for (p, s) in sums.iter().enumerate() {
                                store(yp.add(at + p * out), s);
                            }
                            ox += PIXELS;
                        } else {
                            let sums =
                                sums::<WL, 1>([x.add(row + ox * step)], &off, &w, bias, relu);
                            store(yp.add(at), &sums[0]);
                            ox += 1;
                        }
                    }
                }
            }
        }
    }

    /// [`forward`] then the max pooling `pool` (`k == s`, no padding, over the `oh × ow`
    /// outputs), in registers: `y` gets `pool.oh * pool.ow * out` pooled values.
    ///
    /// # Safety
    /// [`forward`]'s, with `y` holding `pool.oh * pool.ow * out` values and the pooling's
    /// windows inside the convolution's output.
    #[target_feature(enable = "avx512f")]
    unsafe fn forward_pooled<const WL: usize>(
        g: &Geometry,
        pool: &Geometry,
        image: &[f32],
        kernel: &[f32],
        bias: &[f32],
        relu: bool,
        y: &mut [f32],
    ) {
        let out = bias.len();
        let off = offsets::<WL>(g);
        let (x, yp) = (image.as_ptr(), y.as_mut_ptr());
        let step = g.s * g.c;
        let window = pool.k * pool.k;
        // The convolution's output pixel `i` (in `(ky, kx)` order) of pooled pixel `(py, px)`.
        let base = |py: usize, px: usize, i: usize| {
            let (oy, ox) = (py * pool.s + i / pool.k, px * pool.s + i % pool.k);
            // SAFETY: `(oy, ox)` is an output of the convolution (the pooling's windows lie
            // inside it), whose window lies inside the image.
            unsafe { x.add(oy * g.s * g.w * g.c + ox * step) }
        };
        for f in (0..out).step_by(2 * LANES) {
            // SAFETY: `f + 32 <= out` (`out` is a multiple of 32).
            let (w, bias) = unsafe { filters::<WL>(kernel, bias, f) };
            for py in 0..pool.oh {
                for px in 0..pool.ow {
                    let mut max: Option<[__m512; 2]> = None;
                    let mut i = 0;
                    // SAFETY: the window's pixels are outputs of the convolution (above).
                    unsafe {
                        while i < window {
                            if i + PIXELS <= window {
                                let bases = std::array::from_fn(|p| base(py, px, i + p));
                                for s in sums::<WL, PIXELS>(bases, &off, &w, bias, relu) {
                                    max = Some(max.map_or(s, |m| max_nan(m, s)));
                                }
                                i += PIXELS;
                            } else {
                                let [s] = sums::<WL, 1>([base(py, px, i)], &off, &w, bias, relu);
                                max = Some(max.map_or(s, |m| max_nan(m, s)));
                                i += 1;
                            }
                        }
                        if let Some(m) = max {
                            store(yp.add((py * pool.ow + px) * out + f), &m);
                        }
                    }
                }
            }
        }
    }

    /// `cpu_max_pool`'s `max_nan` per lane: `b` where `b > a` or `b` is NaN, else `a`.
    #[inline]
    #[target_feature(enable = "avx512f")]
    fn max_nan(a: [__m512; 2], b: [__m512; 2]) -> [__m512; 2] {
        let pick = |a: __m512, b: __m512| {
            let take =
                _mm512_cmp_ps_mask::<_CMP_GT_OQ>(b, a) | _mm512_cmp_ps_mask::<_CMP_UNORD_Q>(b, b);
            _mm512_mask_mov_ps(a, take, b)
        };
        [pick(a[0], b[0]), pick(a[1], b[1])]
    }

    /// Stores 32 filters' values at `y`.
    ///
    /// # Safety
    /// `y .. y + 32` is inside the output; AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn store(y: *mut f32, v: &[__m512; 2]) {
        // SAFETY: the caller's contract.
        unsafe {
            _mm512_storeu_ps(y, v[0]);
            _mm512_storeu_ps(y.add(LANES), v[1]);
        }
    }

    /// The epilogue of 32 filters of `P` output pixels whose windows start at `bases`: from
    /// the bias, each window value times its filters added in window order (a multiply, then
    /// an add), then `relu_f32` when `relu` (0 where the sum is below 0; NaN and -0 kept).
    ///
    /// # Safety
    /// Every `bases[p] + off[j]` is inside the image; AVX-512F.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn sums<const WL: usize, const P: usize>(
        bases: [*const f32; P],
        off: &[usize; WL],
        w: &[[__m512; 2]; WL],
        bias: [__m512; 2],
        relu: bool,
    ) -> [[__m512; 2]; P] {
        let mut acc = [bias; P];
        for j in 0..WL {
            for (acc, base) in acc.iter_mut().zip(bases) {
                // SAFETY: inside the image (the caller's contract).
                let t = _mm512_set1_ps(unsafe { *base.add(off[j]) });
                acc[0] = _mm512_add_ps(acc[0], _mm512_mul_ps(t, w[j][0]));
                acc[1] = _mm512_add_ps(acc[1], _mm512_mul_ps(t, w[j][1]));
            }
        }
        if relu {
            let zero = _mm512_setzero_ps();
            for a in acc.iter_mut().flatten() {
                *a = _mm512_mask_mov_ps(*a, _mm512_cmp_ps_mask::<_CMP_LT_OQ>(*a, zero), zero);
            }
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::conv::cpu_max_pool;
    use crate::kernels::conv::direct::forward_image_looped;

    fn has_avx512() -> bool {
        #[cfg(target_arch = "x86_64")]
        return std::arch::is_x86_feature_detected!("avx512f");
        #[allow(unreachable_code)]
        false
    }

    fn geometry(h: usize, w: usize, c: usize, k: usize, s: usize) -> Geometry {
        let (oh, ow) = ((h - k) / s + 1, (w - k) / s + 1);
        Geometry {
            h,
            w,
            c,
            k,
            s,
            p: 0,
            oh,
            ow,
        }
    }

    /// Values with negatives, zeros of both signs and a NaN or two.
    fn values(n: usize, seed: usize) -> Vec<f32> {
        (0..n)
            .map(|v| match (v * 31 + seed) % 41 {
                0 => f32::NAN,
                1 => -0.0,
                r => r as f32 / 10.0 - 2.0,
            })
            .collect()
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|v| v.to_bits()).collect()
    }

    #[test]
    fn the_kernel_gives_the_loop_s_bits_where_it_runs() {
        for (h, w, c, k, s) in [
            (28, 28, 1, 3, 1),
            (9, 11, 1, 3, 2),
            (7, 6, 2, 2, 1),
            (6, 6, 1, 4, 1),
        ] {
            let g = geometry(h, w, c, k, s);
            for (out, relu) in [(32, true), (64, false), (96, true)] {
                let image = values(g.image_len(), 3);
                let kernel = values(g.window_len() * out, 7);
                let bias = values(out, 11);
                let mut fast = vec![f32::MAX; g.out_pixels() * out];
                let ran = try_forward_image(&g, &image, &kernel, &bias, relu, &mut fast);
                assert_eq!(ran, has_avx512(), "runs exactly where the CPU has AVX-512");
                if !ran {
                    continue;
                }
                let mut looped = vec![0.0; g.out_pixels() * out];
                forward_image_looped(&g, &image, &kernel, &bias, relu, &mut looped);
                assert_eq!(bits(&fast), bits(&looped), "{g:?}, {out} filters");
            }
        }
    }

    #[test]
    fn pooling_in_registers_gives_the_unfused_bits_nans_included() {
        for (h, w, c, k, s, pk) in [
            (28, 28, 1, 3, 1, 2),
            (13, 12, 1, 3, 1, 3),
            (9, 9, 2, 2, 1, 2),
        ] {
            let g = geometry(h, w, c, k, s);
            let pool = Geometry {
                h: g.oh,
                w: g.ow,
                c: 0,
                k: pk,
                s: pk,
                p: 0,
                oh: g.oh / pk,
                ow: g.ow / pk,
            };
            for out in [32, 64] {
                let pool = Geometry { c: out, ..pool };
                let image = values(g.image_len(), 5);
                let kernel = values(g.window_len() * out, 2);
                let bias = values(out, 9);
                let mut fused = vec![f32::MAX; pool.out_pixels() * out];
                let ran =
                    try_forward_pooled_image(&g, &pool, &image, &kernel, &bias, true, &mut fused);
                assert_eq!(ran, has_avx512(), "runs exactly where the CPU has AVX-512");
                if !ran {
                    continue;
                }
                let mut act = vec![0.0; g.out_pixels() * out];
                forward_image_looped(&g, &image, &kernel, &bias, true, &mut act);
                let mut pooled = vec![0.0; pool.out_pixels() * out];
                cpu_max_pool::forward_image(&pool, &act, &mut pooled);
                assert!(
                    pooled.iter().any(|v| v.is_nan()),
                    "the case has NaN windows"
                );
                assert_eq!(
                    bits(&fused),
                    bits(&pooled),
                    "{g:?}, pool {pk}, {out} filters"
                );
            }
        }
    }

    #[test]
    fn overlapping_pools_and_padding_are_left_to_the_other_paths() {
        let g = geometry(10, 10, 1, 3, 1);
        let pool = Geometry {
            h: 8,
            w: 8,
            c: 32,
            k: 3,
            s: 2,
            p: 0,
            oh: 3,
            ow: 3,
        };
        let (image, kernel, bias) = (vec![0.0; 100], vec![0.0; 9 * 32], vec![0.0; 32]);
        let mut y = vec![0.0; 9 * 32];
        assert!(!try_forward_pooled_image(
            &g, &pool, &image, &kernel, &bias, true, &mut y
        ));
        let padded = Geometry {
            p: 1,
            oh: 10,
            ow: 10,
            ..g
        };
        let mut y = vec![0.0; 100 * 32];
        assert!(!try_forward_image(
            &padded, &image, &kernel, &bias, true, &mut y
        ));
        let odd_filters = vec![0.0; 20];
        assert!(!try_forward_image(
            &g,
            &image,
            &kernel[..9 * 20],
            &odd_filters,
            true,
            &mut y
        ));
    }
}
