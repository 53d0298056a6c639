//! [`RowMetric`]: the per-row value of a mean metric, in a form both device kernels compute.

use super::row_math::*;

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
    /// `100 mean(|(t - p) / max(|t|, eps)|)` over the row (`MeanAbsolutePercentageError`).
    AbsolutePercentageError,
    /// `mean((ln(max(p, eps) + 1) - ln(max(t, eps) + 1))²)` over the row
    /// (`MeanSquaredLogarithmicError`).
    SquaredLogarithmicError,
    /// `sum(t ln(t / p))` over the row, both clipped to `[eps, 1]` (`KLDivergence`).
    KlDivergence,
    /// `mean(p - t ln(p + eps))` over the row (`Poisson`).
    Poisson,
    /// `sum(t p)` of the rows each scaled by `min(1 / ‖row‖, 1 / eps)` (`CosineSimilarity`).
    CosineSimilarity,
    /// `mean(x + softplus(-2x) - ln 2)` with `x = p - t` over the row (`LogCoshError`).
    LogCosh,
    /// `max(max((1 - t) p) - sum(t p) + 1, 0)` (`CategoricalHinge`).
    CategoricalHinge,
    /// `mean(max(1 - t p, 0))` over the row, squared first when `squared` (`Hinge`,
    /// `SquaredHinge`). Labels are expected in `{-1, 1}`; when every label of the batch is 0 or 1
    /// they are mapped to `2t - 1` first, a whole-batch decision as Keras makes it
    /// ([`maps_binary_labels`](RowMetric::maps_binary_labels), [`row_in`](RowMetric::row_in)).
    Hinge {
        /// `SquaredHinge`: each margin squared.
        squared: bool,
    },
    /// The mean product of the two rows, each centred and divided by its population standard
    /// deviation plus `eps` (`PearsonCorrelation` along the last axis).
    PearsonCorrelation,
    /// Keras's concordance correlation of the two rows (`ConcordanceCorrelation` along the last
    /// axis): `mean(2 (t - mean(p)) (p - mean(p)) / (var(t) + var(p) + (mean(t) - mean(p))² +
    /// eps))`.
    ConcordanceCorrelation,
    /// The mean of the row's predictions (one value per row of a [`Mean`](crate::metrics::Mean)
    /// metric; the label is not read).
    PredictionMean,
    /// The sum of the row's predictions, in order (one value per row of a
    /// [`Sum`](crate::metrics::Sum) metric; the label is not read).
    PredictionSum,
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
        !matches!(
            self,
            RowMetric::Value | RowMetric::PredictionMean | RowMetric::PredictionSum
        )
    }

    /// Whether this form maps a batch's labels from `{0, 1}` to `{-1, 1}` (`2t - 1`), as Keras's
    /// hinge metrics do when **every** label of the batch is 0 or 1: the decision the kernels
    /// make over the whole batch before its rows ([`row_in`](RowMetric::row_in)). `false` for
    /// every other form.
    ///
    /// # Examples
    /// ```
    /// use keras_core::kernels::RowMetric;
    /// let hinge = RowMetric::Hinge { squared: false };
    /// assert!(hinge.maps_binary_labels(&[0.0, 1.0, 1.0]));
    /// assert!(!hinge.maps_binary_labels(&[-1.0, 1.0, 1.0]));
    /// assert!(!RowMetric::Poisson.maps_binary_labels(&[0.0, 1.0]));
    /// ```
    pub fn maps_binary_labels(self, y_true: &[f32]) -> bool {
        matches!(self, RowMetric::Hinge { .. }) && y_true.iter().all(|&t| t == 0.0 || t == 1.0)
    }

    /// The value of one row of a batch for which
    /// [`maps_binary_labels`](RowMetric::maps_binary_labels) gave `mapped`: [`row`](RowMetric::row)
    /// with the hinge forms' labels taken as `2t - 1` when `mapped`.
    pub fn row_in(self, mapped: bool, t: &[f32], p: &[f32]) -> f32 {
        match self {
            RowMetric::Hinge { squared } => {
                let label = |t: f32| if mapped { 2.0 * t - 1.0 } else { t };
                mean_of(t, p, |t, p| {
                    let margin = (1.0 - label(t) * p).max(0.0);
                    if squared {
                        margin * margin
                    } else {
                        margin
                    }
                })
            }
            _ => self.row(t, p),
        }
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
            RowMetric::AbsolutePercentageError => {
                100.0 * mean_of(t, p, |t, p| ((t - p) / t.abs().max(EPSILON)).abs())
            }
            RowMetric::SquaredLogarithmicError => mean_of(t, p, |t, p| {
                let d = (p.max(EPSILON) + 1.0).ln() - (t.max(EPSILON) + 1.0).ln();
                d * d
            }),
            RowMetric::KlDivergence => t
                .iter()
                .zip(p)
                .map(|(&t, &p)| {
                    let (t, p) = (t.clamp(EPSILON, 1.0), p.clamp(EPSILON, 1.0));
                    t * (t / p).ln()
                })
                .sum(),
            RowMetric::Poisson => mean_of(t, p, |t, p| p - t * (p + EPSILON).ln()),
            RowMetric::CosineSimilarity => {
                let (it, ip) = (inverse_norm(t), inverse_norm(p));
                t.iter().zip(p).map(|(&t, &p)| (t * it) * (p * ip)).sum()
            }
            RowMetric::LogCosh => mean_of(t, p, |t, p| {
                let x = p - t;
                x + softplus(x * -2.0) - std::f32::consts::LN_2
            }),
            RowMetric::CategoricalHinge => {
                let pos: f32 = t.iter().zip(p).map(|(t, p)| t * p).sum();
                let neg = t
                    .iter()
                    .zip(p)
                    .map(|(t, p)| (1.0 - t) * p)
                    .fold(f32::NEG_INFINITY, f32::max);
                (neg - pos + 1.0).max(0.0)
            }
            RowMetric::Hinge { .. } => self.row_in(false, t, p),
            RowMetric::PearsonCorrelation => {
                let (zt, zp) = (Standardized::of(t), Standardized::of(p));
                let sum: f32 = (0..t.len()).map(|i| zt.at(t, i) * zp.at(p, i)).sum();
                sum / t.len() as f32
            }
            RowMetric::ConcordanceCorrelation => {
                let (mt, mp) = (mean(t), mean(p));
                let norm =
                    centred_variance(t, mt) + centred_variance(p, mp) + (mt - mp) * (mt - mp);
                mean_of(t, p, |t, p| 2.0 * ((t - mp) * (p - mp)) / (norm + EPSILON))
            }
            RowMetric::PredictionMean => mean(p),
            RowMetric::PredictionSum => p.iter().sum(),
        }
    }

    /// The form's number in `metric.cu` (`ROW_*`) and its one parameter (a threshold or a label
    /// smoothing).
    #[cfg_attr(
        not(any(feature = "cuda", all(test, feature = "cuda-emulation"))),
        allow(dead_code)
    )]
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
            RowMetric::AbsolutePercentageError => (15, 0.0),
            RowMetric::SquaredLogarithmicError => (16, 0.0),
            RowMetric::KlDivergence => (17, 0.0),
            RowMetric::Poisson => (18, 0.0),
            RowMetric::CosineSimilarity => (19, 0.0),
            RowMetric::LogCosh => (20, 0.0),
            RowMetric::CategoricalHinge => (21, 0.0),
            RowMetric::Hinge { squared } => (22, if squared { 1.0 } else { 0.0 }),
            RowMetric::PearsonCorrelation => (23, 0.0),
            RowMetric::ConcordanceCorrelation => (24, 0.0),
            RowMetric::PredictionMean => (25, 0.0),
            RowMetric::PredictionSum => (26, 0.0),
        }
    }
}
