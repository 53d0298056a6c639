//! A mean metric's update on the device that holds the model's output: Keras's
//! `MeanMetricWrapper` (`total += sum(f(y_true, y_pred) * w)`, `count += sum(w)`) for the
//! per-row functions both kernels compute ([`RowMetric`]), with a CPU kernel (`cpu_kernel.rs`,
//! the host metrics' own arithmetic) and a CUDA kernel (`cuda_kernel.rs`, `metric.cu`) side by
//! side.
//!
//! A running state is two floats, `[total, count]`, at an even offset of a device buffer; the
//! trainer keeps the states of the loss tracker and of the compiled metrics that have a row form
//! in one buffer and reads it only when a log needs the values.

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;

pub(crate) use cpu_kernel::update as cpu_update;
#[cfg(feature = "cuda")]
pub(crate) use cuda_kernel::launch_mean_update;

/// The per-row value of a mean metric, in a form the device kernels compute. The host metrics
/// compute their rows with [`RowMetric::row`] too, so both agree by construction.
///
/// # Examples
/// ```
/// use keras_core::kernels::RowMetric;
/// assert_eq!(RowMetric::ArgmaxIsLabel.row(&[1.0], &[0.2, 0.8]), 1.0);
/// assert_eq!(RowMetric::AbsoluteError.row(&[0.0, 1.0], &[1.0, 1.0]), 0.5);
/// assert_eq!(RowMetric::ThresholdedMatches { threshold: 0.5 }.row(&[1.0, 0.0], &[0.5, 0.2]), 0.5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum RowMetric {
    /// The value itself (one column; the label is not read): the loss tracker's rows.
    Value,
    /// Whether the arg-max of the row is the integer label, one label per row
    /// (`SparseCategoricalAccuracy`).
    ArgmaxIsLabel,
    /// Whether the arg-maxes of the prediction and label rows agree (`CategoricalAccuracy`).
    ArgmaxesAgree,
    /// The fraction of the row where `(p > threshold) as 0/1` equals the label
    /// (`BinaryAccuracy`).
    ThresholdedMatches {
        /// The decision threshold (strict `>`).
        threshold: f32,
    },
    /// The fraction of the row where the prediction equals the label exactly (`Accuracy`).
    ExactMatches,
    /// `mean((t - p)²)` over the row (`MeanSquaredError`, `RootMeanSquaredError`).
    SquaredError,
    /// `mean(|t - p|)` over the row (`MeanAbsoluteError`).
    AbsoluteError,
    /// `-ln softmax(p)[label]` (`from_logits`), else `-ln clip(p / sum(p))[label]`, one class id
    /// per row (`SparseCategoricalCrossentropy`); the class ids are checked on the host first.
    SparseCrossentropy {
        /// Whether the predictions are logits.
        from_logits: bool,
    },
    /// `-sum(smooth(t) ln p)` over the row, `ln p` from `log_softmax(p)` (`from_logits`) or
    /// `ln clip(p / sum(p))`, labels smoothed to `t (1 - s) + s / cols`
    /// (`CategoricalCrossentropy`).
    CategoricalCrossentropy {
        /// Whether the predictions are logits.
        from_logits: bool,
        /// Keras's `label_smoothing` `s`.
        label_smoothing: f32,
    },
    /// `mean(bce(smooth(t), p))` over the row, labels smoothed to `t (1 - s) + s / 2`; from
    /// logits `-t ln σ(p) - (1 - t) ln σ(-p)`, else on `p` clipped to `[eps, 1 - eps]`
    /// (`BinaryCrossentropy`).
    BinaryCrossentropy {
        /// Whether the predictions are logits.
        from_logits: bool,
        /// Keras's `label_smoothing` `s`.
        label_smoothing: f32,
    },
    /// Whether the integer label is among the row's `k` largest scores (`ops.in_top_k`), one
    /// class id per row (`SparseTopKCategoricalAccuracy`); the class ids are checked on the host
    /// first.
    LabelInTopK {
        /// How many of the largest scores count.
        k: usize,
    },
    /// Whether the label row's arg-max is among the row's `k` largest scores
    /// (`TopKCategoricalAccuracy`).
    ArgmaxInTopK {
        /// How many of the largest scores count.
        k: usize,
    },
}

impl RowMetric {
    /// Whether the labels are one class id per row (else one label per prediction).
    pub fn sparse_labels(self) -> bool {
        matches!(
            self,
            RowMetric::ArgmaxIsLabel
                | RowMetric::SparseCrossentropy { .. }
                | RowMetric::LabelInTopK { .. }
        )
    }

    /// Whether the labels are class ids that index the row (checked on the host before a
    /// kernel reads them).
    pub fn indexes_by_label(self) -> bool {
        matches!(
            self,
            RowMetric::SparseCrossentropy { .. } | RowMetric::LabelInTopK { .. }
        )
    }

    /// Whether the labels are read at all.
    pub fn reads_labels(self) -> bool {
        !matches!(self, RowMetric::Value)
    }

    /// The value of one row: `t` is the row's labels (one class id for
    /// [`sparse_labels`](RowMetric::sparse_labels) forms), `p` its predictions.
    pub fn row(self, t: &[f32], p: &[f32]) -> f32 {
        match self {
            RowMetric::Value => p[0],
            RowMetric::ArgmaxIsLabel => hit(argmax(p) as f32 == t[0]),
            RowMetric::ArgmaxesAgree => hit(argmax(t) == argmax(p)),
            RowMetric::ThresholdedMatches { threshold } => {
                let hits = t
                    .iter()
                    .zip(p)
                    .filter(|(&t, &p)| t == if p > threshold { 1.0 } else { 0.0 })
                    .count();
                hits as f32 / t.len() as f32
            }
            RowMetric::ExactMatches => {
                let hits = t.iter().zip(p).filter(|(t, p)| t == p).count();
                hits as f32 / t.len() as f32
            }
            RowMetric::SquaredError => mean_of(t, p, |t, p| (t - p) * (t - p)),
            RowMetric::AbsoluteError => mean_of(t, p, |t, p| (t - p).abs()),
            RowMetric::SparseCrossentropy { from_logits } => {
                let label = t[0] as usize;
                let log_p = if from_logits {
                    log_softmax_at(p, label)
                } else {
                    log_normalized_clipped_at(p, label)
                };
                -log_p
            }
            RowMetric::CategoricalCrossentropy {
                from_logits,
                label_smoothing,
            } => {
                let smooth = |t: f32| smooth_label(t, label_smoothing, p.len() as f64);
                let dot: f32 = if from_logits {
                    let (max, lse) = max_and_lse(p);
                    t.iter()
                        .zip(p)
                        .map(|(&t, &x)| smooth(t) * ((x - max) - lse))
                        .sum()
                } else {
                    let sum: f32 = p.iter().sum();
                    t.iter()
                        .zip(p)
                        .map(|(&t, &x)| smooth(t) * clipped_log(x, sum))
                        .sum()
                };
                -dot
            }
            RowMetric::BinaryCrossentropy {
                from_logits,
                label_smoothing,
            } => mean_of(t, p, |t, p| {
                binary_crossentropy(smooth_label(t, label_smoothing, 2.0), p, from_logits)
            }),
            RowMetric::LabelInTopK { k } => hit(in_top_k(p, t[0] as usize, k)),
            RowMetric::ArgmaxInTopK { k } => hit(in_top_k(p, argmax(t), k)),
        }
    }

    /// The form's number in `metric.cu` (`ROW_*`) and its one parameter (a threshold or a label
    /// smoothing).
    #[cfg_attr(not(feature = "cuda"), allow(dead_code))]
    pub(crate) fn code(self) -> (u32, f32) {
        match self {
            RowMetric::Value => (0, 0.0),
            RowMetric::ArgmaxIsLabel => (1, 0.0),
            RowMetric::ArgmaxesAgree => (2, 0.0),
            RowMetric::ThresholdedMatches { threshold } => (3, threshold),
            RowMetric::ExactMatches => (4, 0.0),
            RowMetric::SquaredError => (5, 0.0),
            RowMetric::AbsoluteError => (6, 0.0),
            RowMetric::SparseCrossentropy { from_logits: true } => (7, 0.0),
            RowMetric::SparseCrossentropy { from_logits: false } => (8, 0.0),
            RowMetric::CategoricalCrossentropy {
                from_logits,
                label_smoothing,
            } => (if from_logits { 9 } else { 10 }, label_smoothing),
            RowMetric::BinaryCrossentropy {
                from_logits,
                label_smoothing,
            } => (if from_logits { 11 } else { 12 }, label_smoothing),
            RowMetric::LabelInTopK { k } => (13, k as f32),
            RowMetric::ArgmaxInTopK { k } => (14, k as f32),
        }
    }
}

/// One batch of a mean metric's inputs, on a device: `rows × cols` predictions, the labels (one
/// per row for sparse forms, else `rows × cols`), the per-row weights, and the weight of every
/// row when there are none (1 for a metric, the batch size for the loss tracker).
#[derive(Debug)]
pub struct MeanBatch<'a, B: ?Sized> {
    /// The predictions, row-major.
    pub y_pred: &'a B,
    /// The labels (unused by [`RowMetric::Value`]).
    pub y_true: &'a B,
    /// One weight per row, if any.
    pub weights: Option<&'a B>,
    /// The weight of each row without `weights`.
    pub unit_weight: f32,
    /// Rows in the batch.
    pub rows: usize,
    /// Predictions per row.
    pub cols: usize,
}

impl<B: ?Sized> MeanBatch<'_, B> {
    /// Whether the buffers are as long as the batch's shape says for `form` (`len` tells a
    /// buffer's length) and a state at `offset` fits in `state_len` values: what both kernels
    /// check before they read.
    pub(crate) fn fits(
        &self,
        form: RowMetric,
        len: impl Fn(&B) -> usize,
        state_len: usize,
        offset: usize,
    ) -> bool {
        let label_width = if form.sparse_labels() { 1 } else { self.cols };
        len(self.y_pred) >= self.rows * self.cols
            && (!form.reads_labels() || len(self.y_true) >= self.rows * label_width)
            && !matches!(self.weights, Some(w) if len(w) < self.rows)
            && state_len >= offset + 2
    }
}

fn hit(ok: bool) -> f32 {
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
