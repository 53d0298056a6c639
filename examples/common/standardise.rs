//! Feature standardisation for the examples: the training rows' per-column mean and standard
//! deviation, applied to the training and the test rows.

/// Standardises `train` and `test` (row-major, `f` columns) with the mean and (population)
/// standard deviation of `train`'s columns.
pub fn standardise_by_train(train: &mut [f32], test: &mut [f32], f: usize) {
    let (mean, std) = column_stats(train, f);
    standardise(train, &mean, &std);
    standardise(test, &mean, &std);
}

/// Per-column mean and (population) standard deviation of row-major `x` with `f` columns.
fn column_stats(x: &[f32], f: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (x.len() / f) as f64;
    let mut mean = vec![0f64; f];
    let mut var = vec![0f64; f];
    for row in x.chunks(f) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v) / n;
        }
    }
    for row in x.chunks(f) {
        for ((s, &m), &v) in var.iter_mut().zip(&mean).zip(row) {
            *s += (f64::from(v) - m).powi(2) / n;
        }
    }
    let std = var.iter().map(|v| v.sqrt().max(1e-12) as f32).collect();
    (mean.iter().map(|&m| m as f32).collect(), std)
}

/// `x = (x - mean) / std`, column by column.
fn standardise(x: &mut [f32], mean: &[f32], std: &[f32]) {
    for row in x.chunks_mut(mean.len()) {
        for ((v, m), s) in row.iter_mut().zip(mean).zip(std) {
            *v = (*v - m) / s;
        }
    }
}
