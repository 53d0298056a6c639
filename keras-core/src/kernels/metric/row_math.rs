//! The per-row arithmetic of the row forms, in `f32` as Keras's JAX backend computes it; `metric.cu`
//! repeats each function for the CUDA kernel.

pub(crate) fn hit(ok: bool) -> f32 {
    if ok {
        1.0
    } else {
        0.0
    }
}

/// Index of the first maximum of a row (ties go to the lowest index, as `argmax` does).
pub(crate) fn argmax(row: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// The mean over a row of `f(t, p)` per element: their `f32` sum, then `/ len`.
pub(crate) fn mean_of(t: &[f32], p: &[f32], f: impl Fn(f32, f32) -> f32) -> f32 {
    let sum: f32 = t.iter().zip(p).map(|(&t, &p)| f(t, p)).sum();
    sum / t.len() as f32
}

/// `ops.in_top_k`: the target counts as in the top `k` when fewer than `k` entries of the row are
/// strictly larger than the row's value at `target` (a NaN there counts as `-inf`).
pub(crate) fn in_top_k(row: &[f32], target: usize, k: usize) -> bool {
    let at = row[target];
    let at = if at.is_nan() { f32::NEG_INFINITY } else { at };
    let larger = row.iter().filter(|&&v| v > at).count();
    larger < k
}

/// Keras's label smoothing, `t (1 - s) + s / classes` (the factors rounded from `f64` as Keras
/// computes them in Python floats), `t` itself when `s == 0`.
pub(crate) fn smooth_label(t: f32, s: f32, classes: f64) -> f32 {
    if s == 0.0 {
        return t;
    }
    let keep = (1.0 - s as f64) as f32;
    let shift = (s as f64 / classes) as f32;
    t * keep + shift
}

/// `jax.nn.softplus(x) = logaddexp(x, 0) = max(x, 0) + ln(1 + exp(-|x|))`.
pub(crate) fn softplus(x: f32) -> f32 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// `jax.nn.log_sigmoid(x) = -softplus(-x)`.
pub(crate) fn log_sigmoid(x: f32) -> f32 {
    -softplus(-x)
}

/// Keras's binary crossentropy of one label `t` and prediction `p`: from logits
/// `-t ln σ(p) - (1 - t) ln σ(-p)`, else on `p` clipped to `[eps, 1 - eps]`.
pub(crate) fn binary_crossentropy(t: f32, p: f32, from_logits: bool) -> f32 {
    if from_logits {
        -t * log_sigmoid(p) - (1.0 - t) * log_sigmoid(-p)
    } else {
        let p = p.clamp(EPSILON, 1.0 - EPSILON);
        -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
    }
}

/// Keras's `backend.epsilon()`, the clip of probabilities.
pub(crate) const EPSILON: f32 = 1e-7;

/// The row's maximum and `ln(sum(exp(x - max)))` (the sum in order): what `jax.nn.log_softmax`
/// subtracts, `log_softmax(x)_i = (x_i - max) - lse`.
pub(crate) fn max_and_lse(row: &[f32]) -> (f32, f32) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let lse = row.iter().map(|&x| (x - max).exp()).sum::<f32>().ln();
    (max, lse)
}

/// `jax.nn.log_softmax` of a row at `i`.
pub(crate) fn log_softmax_at(row: &[f32], i: usize) -> f32 {
    let (max, lse) = max_and_lse(row);
    (row[i] - max) - lse
}

/// Keras's probability path of the categorical crossentropies for one probability `p` of a row
/// summing to `sum`: `p / sum`, clipped to `[eps, 1 - eps]`, then `ln`.
pub(crate) fn clipped_log(p: f32, sum: f32) -> f32 {
    (p / sum).clamp(EPSILON, 1.0 - EPSILON).ln()
}

/// [`clipped_log`] of a row at `i`.
pub(crate) fn log_normalized_clipped_at(row: &[f32], i: usize) -> f32 {
    clipped_log(row[i], row.iter().sum())
}

/// Adds `(value, weight)` pairs to a running `[total, count]` as Keras's `Mean.update_state`
/// does: the batch's weighted values and weights summed in `f32` first, then added.
pub(crate) fn add_batch(state: &mut [f32], pairs: impl Iterator<Item = (f32, f32)>) {
    let mut total = 0.0f32;
    let mut count = 0.0f32;
    for (v, w) in pairs {
        total += v * w;
        count += w;
    }
    state[0] += total;
    state[1] += count;
}

/// Mean of a row: `sum / len`, as `jnp.mean`.
pub(crate) fn mean(row: &[f32]) -> f32 {
    row.iter().sum::<f32>() / row.len() as f32
}

/// The population variance (`jnp.var`) of the row centred on `m` (`x - m`, computed on the fly): `jnp.var(x - m)`,
/// with no copy of the row.
pub(crate) fn centred_variance(row: &[f32], m: f32) -> f32 {
    let n = row.len() as f32;
    let mc = row.iter().map(|&x| x - m).sum::<f32>() / n;
    row.iter()
        .map(|&x| {
            let d = (x - m) - mc;
            d * d
        })
        .sum::<f32>()
        / n
}

/// A row standardized as Keras's correlation metrics do: `(x - mean(x)) / (std(x - mean(x)) +
/// eps)`, each value computed when asked ([`at`](Standardized::at)), with no copy of the row.
pub(crate) struct Standardized {
    mean: f32,
    denominator: f32,
}

impl Standardized {
    /// The mean and the denominator of `row`.
    pub(crate) fn of(row: &[f32]) -> Self {
        let mean = mean(row);
        Self {
            mean,
            denominator: centred_variance(row, mean).sqrt() + EPSILON,
        }
    }

    /// The standardized value of `row[i]`.
    pub(crate) fn at(&self, row: &[f32], i: usize) -> f32 {
        (row[i] - self.mean) / self.denominator
    }
}

/// `min(1 / sqrt(sum x²), 1 / eps)`: the factor that scales a row to unit norm in
/// `CosineSimilarity`.
pub(crate) fn inverse_norm(x: &[f32]) -> f32 {
    let sq: f32 = x.iter().map(|v| v * v).sum();
    (1.0 / sq.sqrt()).min(1.0 / EPSILON)
}

/// `jax.nn.sigmoid(x) = 1 / (1 + exp(-x))`.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}
