//! The arithmetic of the fused batch normalization on host slices of `rows × c` values: what
//! `Cpu`'s op runs, with `batch_norm.cu`'s formulas. Per-feature sums over the rows go by blocks
//! of [`BLOCK_ROWS`] rows on rayon's threads, each block in row order, the blocks added in
//! order (`batch_norm.cu` sums in other blocks and lanes: the results agree to rounding).

use rayon::prelude::*;

/// Rows per block of a per-feature sum.
const BLOCK_ROWS: usize = 256;

/// Floats between two blocks' partial sums, at least: a cache line, so that threads writing
/// neighbouring blocks never share one.
const PAD: usize = 16;

/// Per-feature sums of `term(x_row, g_row, a, b)` over the rows, which adds one row's terms to
/// the `c` values of `a` and of `b`: `(a, b)` totals. `g` is read alongside `x` (pass `x` again
/// when there is no `g`). The blocks' partial sums share one buffer, each block's `2c` values a
/// cache line or more apart from the next's.
fn column_sums<F>(x: &[f32], g: &[f32], c: usize, term: F) -> (Vec<f32>, Vec<f32>)
where
    F: Fn(&[f32], &[f32], &mut [f32], &mut [f32]) + Sync,
{
    let blocks = (x.len() / c).div_ceil(BLOCK_ROWS);
    let stride = (2 * c).next_multiple_of(PAD) + PAD;
    let mut partials = vec![0.0f32; blocks * stride];
    partials
        .par_chunks_mut(stride)
        .zip(x.par_chunks(BLOCK_ROWS * c))
        .zip(g.par_chunks(BLOCK_ROWS * c))
        .for_each(|((partial, x), g)| {
            let (a, rest) = partial.split_at_mut(c);
            let b = &mut rest[..c];
            for (x, g) in x.chunks_exact(c).zip(g.chunks_exact(c)) {
                term(x, g, a, b);
            }
        });
    let mut sums = vec![0.0f32; 2 * c];
    for partial in partials.chunks_exact(stride) {
        for (t, v) in sums.iter_mut().zip(&partial[..2 * c]) {
            *t += v;
        }
    }
    let b = sums.split_off(c);
    (sums, b)
}

/// The batch's statistics for training: each feature's mean and `1 / sqrt(var + epsilon)` (the
/// biased variance), into `mean` and `rstd`; returns the variance (for the moving update).
pub(super) fn batch_statistics(
    x: &[f32],
    epsilon: f32,
    mean: &mut [f32],
    rstd: &mut [f32],
) -> Vec<f32> {
    let c = mean.len();
    let n = (x.len() / c) as f32;
    let (sums, _) = column_sums(x, x, c, |x, _, a, _| {
        for (a, &v) in a.iter_mut().zip(x) {
            *a += v;
        }
    });
    for (m, s) in mean.iter_mut().zip(&sums) {
        *m = s / n;
    }
    let (squares, _) = column_sums(x, x, c, |x, _, a, _| {
        for ((a, &v), &m) in a.iter_mut().zip(x).zip(&*mean) {
            *a += (v - m) * (v - m);
        }
    });
    let var: Vec<f32> = squares.iter().map(|s| s / n).collect();
    for (r, &v) in rstd.iter_mut().zip(&var) {
        *r = 1.0 / (v + epsilon).sqrt();
    }
    var
}

/// `moving = moving · keep + batch · take`, as dfdx's `axpy` (`keep` the momentum, `take` one
/// less it).
pub(super) fn update_moving(moving: &mut [f32], batch: &[f32], keep: f32, take: f32) {
    for (m, &b) in moving.iter_mut().zip(batch) {
        *m = *m * keep + b * take;
    }
}

/// `y = (x - mean) · (gamma · rstd) + beta` per feature.
pub(super) fn normalize(
    x: &[f32],
    mean: &[f32],
    rstd: &[f32],
    gamma: &[f32],
    beta: &[f32],
    y: &mut [f32],
) {
    let c = mean.len();
    y.par_chunks_mut(BLOCK_ROWS * c)
        .zip(x.par_chunks(BLOCK_ROWS * c))
        .for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
                for (j, (y, &v)) in y.iter_mut().zip(x).enumerate() {
                    *y = (v - mean[j]) * (gamma[j] * rstd[j]) + beta[j];
                }
            }
        });
}

/// The backward: adds `sum(g · xhat)` to `dgamma` and `sum(g)` to `dbeta` (`xhat = (x - mean) ·
/// rstd`), and, when `dx` is given, the input's gradient: in training (the statistics are the
/// batch's) `gamma · rstd · (g - sum(g) / n - xhat · sum(g · xhat) / n)`, in inference
/// `gamma · rstd · g`.
pub(super) struct Backward<'a> {
    /// The input.
    pub x: &'a [f32],
    /// The output's gradient.
    pub g: &'a [f32],
    /// The mean the forward subtracted.
    pub mean: &'a [f32],
    /// The forward's `1 / sqrt(var + epsilon)`.
    pub rstd: &'a [f32],
    /// `gamma`.
    pub gamma: &'a [f32],
    /// Whether the statistics were the batch's.
    pub training: bool,
}

impl Backward<'_> {
    /// Adds the gradients.
    pub(super) fn run(&self, dgamma: &mut [f32], dbeta: &mut [f32], dx: Option<&mut [f32]>) {
        let (mean, rstd, gamma) = (self.mean, self.rstd, self.gamma);
        let c = mean.len();
        let n = (self.x.len() / c) as f32;
        let (sum_g, sum_gx) = column_sums(self.x, self.g, c, |x, g, a, b| {
            for j in 0..c {
                a[j] += g[j];
                b[j] += g[j] * ((x[j] - mean[j]) * rstd[j]);
            }
        });
        for (d, s) in dgamma.iter_mut().zip(&sum_gx) {
            *d += s;
        }
        for (d, s) in dbeta.iter_mut().zip(&sum_g) {
            *d += s;
        }
        let Some(dx) = dx else { return };
        let training = self.training;
        dx.par_chunks_mut(BLOCK_ROWS * c)
            .zip(self.x.par_chunks(BLOCK_ROWS * c))
            .zip(self.g.par_chunks(BLOCK_ROWS * c))
            .for_each(|((dx, x), g)| {
                for ((dx, x), g) in dx
                    .chunks_exact_mut(c)
                    .zip(x.chunks_exact(c))
                    .zip(g.chunks_exact(c))
                {
                    for j in 0..c {
                        let inner = if training {
                            let xhat = (x[j] - mean[j]) * rstd[j];
                            g[j] - sum_g[j] / n - xhat * (sum_gx[j] / n)
                        } else {
                            g[j]
                        };
                        dx[j] += gamma[j] * rstd[j] * inner;
                    }
                }
            });
    }
}
