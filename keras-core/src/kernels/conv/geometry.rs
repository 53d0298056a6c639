//! The shape of a 2D window op on channels-last images, and the window packing (im2col) and
//! unpacking (col2im) of the CPU convolution.

use super::wide::vectorized;

/// A `K x K` window op (stride `s`, zero padding `p` on every side) over `(h, w, c)` images,
/// giving `(oh, ow)` outputs per channel or filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Geometry {
    pub h: usize,
    pub w: usize,
    pub c: usize,
    pub k: usize,
    pub s: usize,
    pub p: usize,
    pub oh: usize,
    pub ow: usize,
}

impl Geometry {
    /// The geometry of a window op from its compile-time sizes.
    pub fn of<
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const S: usize,
        const P: usize,
        const OH: usize,
        const OW: usize,
    >() -> Self {
        Geometry {
            h: H,
            w: W,
            c: C,
            k: K,
            s: S,
            p: P,
            oh: OH,
            ow: OW,
        }
    }

    /// Values of one input image.
    pub fn image_len(&self) -> usize {
        self.h * self.w * self.c
    }

    /// Output pixels of one image.
    pub fn out_pixels(&self) -> usize {
        self.oh * self.ow
    }

    /// Values of one window row (im2col's column count): `k * k * c`, in `(ky, kx, c)` order,
    /// the row order of a Keras kernel `[kh, kw, in, out]`.
    pub fn window_len(&self) -> usize {
        self.k * self.k * self.c
    }

    /// For output pixel `(oy, ox)` and window row `ky`: the input row, and the window columns
    /// `lo..hi` that fall inside the image (the others are padding), with the input column of
    /// `lo`. `None` when the whole window row is padding (above, below, left or right of the
    /// image).
    #[inline(always)]
    fn window_row(&self, oy: usize, ox: usize, ky: usize) -> Option<(usize, usize, usize, usize)> {
        let iy = (oy * self.s + ky)
            .checked_sub(self.p)
            .filter(|&iy| iy < self.h)?;
        let left = ox * self.s;
        // Window column kx reads input column left + kx - p.
        let lo = self.p.saturating_sub(left).min(self.k);
        let hi = (self.w + self.p).saturating_sub(left).min(self.k);
        (hi > lo).then(|| (iy, lo, hi, left + lo - self.p))
    }

    /// Writes the window rows of one image (`image_len` values) into `cols`
    /// (`out_pixels * window_len` values, row-major), zeros where a window hangs over the
    /// padding.
    pub fn im2col(&self, image: &[f32], cols: &mut [f32]) {
        let (k, c) = (self.k, self.c);
        let mut rows = cols.chunks_exact_mut(self.window_len());
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                let Some(row) = rows.next() else { return };
                for (ky, seg) in row.chunks_exact_mut(k * c).enumerate() {
                    match self.window_row(oy, ox, ky) {
                        None => seg.fill(0.0),
                        Some((iy, lo, hi, ix)) => {
                            seg[..lo * c].fill(0.0);
                            seg[hi * c..].fill(0.0);
                            let from = (iy * self.w + ix) * c;
                            seg[lo * c..hi * c].copy_from_slice(&image[from..from + (hi - lo) * c]);
                        }
                    }
                }
            }
        }
    }

    /// Adds window rows (`out_pixels * window_len` values, as [`im2col`](Self::im2col) lays
    /// them out) back onto the pixels they were read from in one image's gradient (`image_len`
    /// values); the padding's share is dropped.
    pub fn col2im_add(&self, cols: &[f32], image: &mut [f32]) {
        col2im_add(self, cols, image);
    }
}

vectorized! {
    /// [`Geometry::col2im_add`], compiled for the widest vectors.
    fn col2im_add(g: &Geometry, cols: &[f32], image: &mut [f32]) => col2im_loop;
}

/// The loop of [`Geometry::col2im_add`].
#[inline(always)]
fn col2im_loop(g: &Geometry, cols: &[f32], image: &mut [f32]) {
    g.col2im_add_inline(cols, image);
}

impl Geometry {
    #[inline(always)]
    fn col2im_add_inline(&self, cols: &[f32], image: &mut [f32]) {
        let (k, c) = (self.k, self.c);
        let mut rows = cols.chunks_exact(self.window_len());
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                let Some(row) = rows.next() else { return };
                for (ky, seg) in row.chunks_exact(k * c).enumerate() {
                    if let Some((iy, lo, hi, ix)) = self.window_row(oy, ox, ky) {
                        let from = (iy * self.w + ix) * c;
                        image[from..from + (hi - lo) * c]
                            .iter_mut()
                            .zip(&seg[lo * c..hi * c])
                            .for_each(|(d, g)| *d += g);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Geometry;

    /// im2col by its definition: one value at a time.
    fn naive_im2col(g: &Geometry, image: &[f32]) -> Vec<f32> {
        let mut out = Vec::new();
        for oy in 0..g.oh {
            for ox in 0..g.ow {
                for ky in 0..g.k {
                    for kx in 0..g.k {
                        for ch in 0..g.c {
                            let iy = (oy * g.s + ky) as isize - g.p as isize;
                            let ix = (ox * g.s + kx) as isize - g.p as isize;
                            let inside =
                                (0..g.h as isize).contains(&iy) && (0..g.w as isize).contains(&ix);
                            out.push(if inside {
                                image[(iy as usize * g.w + ix as usize) * g.c + ch]
                            } else {
                                0.0
                            });
                        }
                    }
                }
            }
        }
        out
    }

    fn geometries() -> Vec<Geometry> {
        let mut all = Vec::new();
        for (h, w, c, k, s, p) in [
            (5, 4, 2, 3, 1, 0),
            (5, 4, 2, 3, 1, 1),
            (6, 7, 3, 3, 2, 1),
            (4, 4, 1, 2, 2, 0),
            (3, 5, 2, 5, 1, 2),
            (2, 2, 1, 3, 1, 2),
            (7, 6, 2, 4, 3, 3),
        ] {
            let (oh, ow) = ((h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1);
            all.push(Geometry {
                h,
                w,
                c,
                k,
                s,
                p,
                oh,
                ow,
            });
        }
        all
    }

    #[test]
    fn im2col_matches_its_definition_with_strides_and_padding() {
        for g in geometries() {
            let image: Vec<f32> = (0..g.image_len()).map(|v| v as f32 + 1.0).collect();
            let mut cols = vec![f32::NAN; g.out_pixels() * g.window_len()];
            g.im2col(&image, &mut cols);
            assert_eq!(cols, naive_im2col(&g, &image), "{g:?}");
        }
    }

    #[test]
    fn col2im_is_the_transpose_of_im2col() {
        // <im2col(x), r> == <x, col2im(r)> for every x and r: check it on basis vectors of x.
        for g in geometries() {
            let r: Vec<f32> = (0..g.out_pixels() * g.window_len())
                .map(|v| ((v * 7) % 5) as f32 - 2.0)
                .collect();
            let mut back = vec![0.0; g.image_len()];
            g.col2im_add(&r, &mut back);
            for i in 0..g.image_len() {
                let mut e = vec![0.0; g.image_len()];
                e[i] = 1.0;
                let cols = naive_im2col(&g, &e);
                let dot: f32 = cols.iter().zip(&r).map(|(a, b)| a * b).sum();
                assert_eq!(back[i], dot, "{g:?} at {i}");
            }
        }
    }
}
