//! The arithmetic of the fused layer normalization on host slices of `rows × m` values: what
//! `Cpu`'s op runs, with `layer_norm.cu`'s formulas (each row's sums in order here, in a tree
//! there). `stats` holds two values per row, its mean and its reciprocal deviation
//! `1 / sqrt(var + epsilon)`, written by the forward and read by the backward.

use rayon::prelude::*;

/// Values per parallel task, at least.
const MIN_TASK_VALUES: usize = 16 * 1024;

/// Rows per task for `rows` rows of `m` values.
fn per_task(rows: usize, m: usize) -> usize {
    let threads = rayon::current_num_threads();
    let by_size = MIN_TASK_VALUES.div_ceil(m.max(1));
    rows.div_ceil(4 * threads).max(by_size).max(1)
}

/// `y = (x - mean) · rstd · gamma + beta` per row, each row's `[mean, rstd]` into `stats`.
pub(super) fn forward(
    x: &[f32],
    gamma: &[f32],
    beta: &[f32],
    epsilon: f32,
    y: &mut [f32],
    stats: &mut [f32],
) {
    let m = gamma.len();
    let per = per_task(stats.len() / 2, m);
    y.par_chunks_mut(per * m)
        .zip(x.par_chunks(per * m))
        .zip(stats.par_chunks_mut(per * 2))
        .for_each(|((y, x), stats)| {
            for ((y, x), stat) in y
                .chunks_exact_mut(m)
                .zip(x.chunks_exact(m))
                .zip(stats.chunks_exact_mut(2))
            {
                let count = m as f32;
                let mean = x.iter().fold(0.0f32, |s, &v| s + v) / count;
                let var = x.iter().fold(0.0f32, |s, &v| s + (v - mean) * (v - mean)) / count;
                let rstd = 1.0 / (var + epsilon).sqrt();
                for (((y, &v), &g), &b) in y.iter_mut().zip(x).zip(gamma).zip(beta) {
                    *y = (v - mean) * rstd * g + b;
                }
                stat[0] = mean;
                stat[1] = rstd;
            }
        });
}

/// Adds the input's gradient to `dx`, row by row: with `xhat = (x - mean) · rstd` and
/// `dxhat = g · gamma`, `dx += (dxhat - sum(dxhat) / m - xhat · sum(dxhat · xhat) / m) · rstd`.
pub(super) fn backward_input(x: &[f32], gamma: &[f32], stats: &[f32], g: &[f32], dx: &mut [f32]) {
    let m = gamma.len();
    let per = per_task(stats.len() / 2, m);
    dx.par_chunks_mut(per * m)
        .zip(x.par_chunks(per * m))
        .zip(g.par_chunks(per * m).zip(stats.par_chunks(per * 2)))
        .for_each(|((dx, x), (g, stats))| {
            for (((dx, x), g), stat) in dx
                .chunks_exact_mut(m)
                .zip(x.chunks_exact(m))
                .zip(g.chunks_exact(m))
                .zip(stats.chunks_exact(2))
            {
                let (mean, rstd) = (stat[0], stat[1]);
                let (mut a, mut b) = (0.0f32, 0.0f32);
                for ((&v, &g), &w) in x.iter().zip(g).zip(gamma) {
                    let dxhat = g * w;
                    a += dxhat;
                    b += dxhat * ((v - mean) * rstd);
                }
                let count = m as f32;
                let (a, b) = (a / count, b / count);
                for (((d, &v), &g), &w) in dx.iter_mut().zip(x).zip(g).zip(gamma) {
                    let xhat = (v - mean) * rstd;
                    *d += (g * w - a - xhat * b) * rstd;
                }
            }
        });
}

/// Adds `sum over rows of g · xhat` to `dgamma` and `sum over rows of g` to `dbeta`, the rows
/// in order.
pub(super) fn backward_params(
    x: &[f32],
    stats: &[f32],
    g: &[f32],
    dgamma: &mut [f32],
    dbeta: &mut [f32],
) {
    let m = dgamma.len();
    for ((x, g), stat) in x
        .chunks_exact(m)
        .zip(g.chunks_exact(m))
        .zip(stats.chunks_exact(2))
    {
        let (mean, rstd) = (stat[0], stat[1]);
        for (((dg, db), &v), &g) in dgamma.iter_mut().zip(dbeta.iter_mut()).zip(x).zip(g) {
            *dg += g * ((v - mean) * rstd);
            *db += g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{backward_input, backward_params, forward};

    /// The layer normalization of one row and its gradients, by definition in `f64`.
    fn reference(x: &[f64], gamma: &[f64], beta: &[f64], eps: f64, g: &[f64]) -> [Vec<f64>; 4] {
        let m = x.len() as f64;
        let mean = x.iter().sum::<f64>() / m;
        let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / m;
        let rstd = 1.0 / (var + eps).sqrt();
        let xhat: Vec<f64> = x.iter().map(|v| (v - mean) * rstd).collect();
        let y = xhat
            .iter()
            .zip(gamma)
            .zip(beta)
            .map(|((h, g), b)| h * g + b);
        let dxhat: Vec<f64> = g.iter().zip(gamma).map(|(g, w)| g * w).collect();
        let a = dxhat.iter().sum::<f64>() / m;
        let b = dxhat.iter().zip(&xhat).map(|(d, h)| d * h).sum::<f64>() / m;
        let dx = dxhat.iter().zip(&xhat).map(|(d, h)| (d - a - h * b) * rstd);
        let dgamma = g.iter().zip(&xhat).map(|(g, h)| g * h);
        [y.collect(), dx.collect(), dgamma.collect(), g.to_vec()]
    }

    #[test]
    fn rows_normalize_and_their_gradients_match_the_definition() {
        let m = 5;
        let x: Vec<f32> = (0..3 * m)
            .map(|i| ((i * 7) % 11) as f32 * 0.5 - 2.0)
            .collect();
        let gamma: Vec<f32> = (0..m).map(|i| 0.5 + i as f32 * 0.25).collect();
        let beta: Vec<f32> = (0..m).map(|i| i as f32 * 0.1 - 0.2).collect();
        let g: Vec<f32> = (0..3 * m)
            .map(|i| ((i * 5) % 7) as f32 * 0.3 - 1.0)
            .collect();
        let eps = 1e-3;
        let mut y = vec![0.0; 3 * m];
        let mut stats = vec![0.0; 6];
        forward(&x, &gamma, &beta, eps, &mut y, &mut stats);
        let mut dx = vec![1.0; 3 * m];
        backward_input(&x, &gamma, &stats, &g, &mut dx);
        let (mut dgamma, mut dbeta) = (vec![0.0; m], vec![0.0; m]);
        backward_params(&x, &stats, &g, &mut dgamma, &mut dbeta);
        let f = |v: &[f32]| v.iter().map(|&v| f64::from(v)).collect::<Vec<_>>();
        let (mut want_dgamma, mut want_dbeta) = (vec![0.0; m], vec![0.0; m]);
        for r in 0..3 {
            let row = r * m..(r + 1) * m;
            let [wy, wdx, wdg, wdb] = reference(
                &f(&x[row.clone()]),
                &f(&gamma),
                &f(&beta),
                f64::from(eps),
                &f(&g[row.clone()]),
            );
            for (i, c) in row.enumerate() {
                assert!((f64::from(y[c]) - wy[i]).abs() < 1e-5, "y[{c}]");
                assert!((f64::from(dx[c]) - 1.0 - wdx[i]).abs() < 1e-5, "dx[{c}]");
                want_dgamma[i] += wdg[i];
                want_dbeta[i] += wdb[i];
            }
        }
        for i in 0..m {
            assert!(
                (f64::from(dgamma[i]) - want_dgamma[i]).abs() < 1e-5,
                "dgamma[{i}]"
            );
            assert!(
                (f64::from(dbeta[i]) - want_dbeta[i]).abs() < 1e-5,
                "dbeta[{i}]"
            );
        }
    }
}
