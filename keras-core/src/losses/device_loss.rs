//! A loss computed where the model runs, with dfdx's ops on the tape: the logits never leave
//! the device and the backward pass differentiates the loss itself.

use super::{Reduction, EPSILON};
use crate::kernels::{reduce_with_ops, try_softmax_crossentropy, SoftmaxCrossentropyKernel};
use dfdx::{
    shapes::{Axis, Const, HasShape},
    tensor::{Merge, NoneTape, Tape, Tensor},
    tensor_ops::{BroadcastTo, Device, MaxTo, MeanTo, SumTo, TryAdd, TryDiv, TryMul, TrySub},
};

/// The per-row form of a loss as dfdx's ops compute it on any device (`Cpu` or `Cuda`), for
/// the losses whose Keras formula these ops express. A loss gives its form and the labels the
/// form takes (one-hot for sparse labels, label smoothing applied) through
/// [`LossFn::device_form`](super::LossFn::device_form); the trainer then reduces the rows with
/// the sample weights as [`compute_loss`](super::compute_loss) does.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::losses::DeviceLoss;
/// let dev = Cpu::default();
/// let logits: Tensor<(usize, Const<2>), f32, _> = dev.tensor_from_vec(vec![0.0, 0.0], (1, Const));
/// let labels = dev.tensor_from_vec(vec![1.0, 0.0], (1, Const::<2>));
/// let rows = DeviceLoss::SoftmaxCrossentropy.per_row(logits, labels).unwrap();
/// assert!((rows.as_vec()[0] - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum DeviceLoss {
    /// `-sum(t * log_softmax(x))` over each row (categorical crossentropy from logits; sparse
    /// labels as one-hot rows).
    SoftmaxCrossentropy,
    /// `mean((x - t)²)` over each row.
    MeanSquaredError,
    /// `mean(-t log σ(x) - (1 - t) log σ(-x))` over each row (binary crossentropy from logits),
    /// as dfdx's `bce_with_logits`.
    SigmoidCrossentropy,
    /// `mean(|x - t|)` over each row.
    MeanAbsoluteError,
    /// `100 mean(|(x - t) / max(|t|, eps)|)` over each row.
    MeanAbsolutePercentageError,
    /// `mean((ln(max(x, eps) + 1) - ln(max(t, eps) + 1))²)` over each row.
    MeanSquaredLogarithmicError,
    /// `mean(huber(x - t))` over each row, quadratic within `delta` and linear outside, as
    /// dfdx's `huber_error`.
    Huber {
        /// Where the loss turns linear.
        delta: f32,
    },
    /// `mean(log cosh(x - t))` over each row, as `|e| + ln(1 + exp(-2|e|)) - ln 2`.
    LogCosh,
    /// `mean(x - t ln(x + eps))` over each row.
    Poisson,
    /// `sum(t (ln t - ln x))` over each row, both clipped to `[eps, 1]` (the labels by
    /// [`prepare_labels`](DeviceLoss::prepare_labels)).
    KlDivergence,
    /// `mean(max(1 - t x, 0))` over each row, squared first when `squared`; 0/1 labels are
    /// mapped to `-1/1` by [`prepare_labels`](DeviceLoss::prepare_labels) as Keras decides per
    /// batch.
    Hinge {
        /// `SquaredHinge`.
        squared: bool,
    },
    /// `max(max((1 - t) x) - sum(t x) + 1, 0)` over each row.
    CategoricalHinge,
    /// `-sum(t̂ x̂)` over each row, each row scaled by `min(1 / ‖row‖, 1 / eps)` (the labels by
    /// [`prepare_labels`](DeviceLoss::prepare_labels)).
    CosineSimilarity,
    /// `mean(-t ln p - (1 - t) ln(1 - p))` over each row, `p = clip(x, eps, 1 - eps)` (binary
    /// crossentropy from probabilities).
    BinaryCrossentropy,
    /// `-sum(t ln clip(x / sum(x), eps, 1 - eps))` over each row (categorical crossentropy
    /// from probabilities; sparse labels as one-hot rows).
    CategoricalCrossentropy,
    /// `mean(w (t + p (1 - 2t))^gamma bce(t, p))` over each row, `p = σ(x)` from logits else
    /// `x`, the crossentropy on `p` clipped to `[eps, 1 - eps]`, `w = t alpha + (1 - t)(1 -
    /// alpha)` with class balancing else 1 (binary focal crossentropy).
    BinaryFocalCrossentropy {
        /// Whether the predictions are logits.
        from_logits: bool,
        /// The focusing exponent.
        gamma: f32,
        /// The class balancing's `alpha`, when it is applied.
        alpha: Option<f32>,
    },
    /// `sum(alpha (1 - o)^gamma (-t ln o))` over each row, `o = clip(p / sum(p), eps, 1 -
    /// eps)`, `p = softmax(x)` from logits else `x` (categorical focal crossentropy).
    CategoricalFocalCrossentropy {
        /// Whether the predictions are logits.
        from_logits: bool,
        /// The focusing exponent.
        gamma: f32,
        /// The weighting factor.
        alpha: f32,
    },
}

impl DeviceLoss {
    /// One loss value per row of `logits` (a `(rows, K)` model output, on its tape) against
    /// `labels` (same shape).
    pub fn per_row<const K: usize, D, T>(
        self,
        logits: Tensor<(usize, Const<K>), f32, D, T>,
        labels: Tensor<(usize, Const<K>), f32, D>,
    ) -> Result<Tensor<(usize,), f32, D, T>, D::Err>
    where
        D: Device<f32>,
        T: Tape<f32, D> + Merge<NoneTape>,
    {
        match self {
            DeviceLoss::SoftmaxCrossentropy => logits
                .try_log_softmax::<Axis<1>>()?
                .try_mul(labels)?
                .try_sum::<(usize,), Axis<1>>()?
                .try_negate(),
            DeviceLoss::MeanSquaredError => logits
                .try_sub(labels)?
                .try_square()?
                .try_mean::<(usize,), Axis<1>>(),
            DeviceLoss::SigmoidCrossentropy => logits
                .try_bce_with_logits(labels)?
                .try_mean::<(usize,), Axis<1>>(),
            DeviceLoss::MeanAbsoluteError => logits
                .try_sub(labels)?
                .try_abs()?
                .try_mean::<(usize,), Axis<1>>(),
            DeviceLoss::MeanAbsolutePercentageError => {
                let scale = labels.clone().try_abs()?.try_clamp(EPSILON, f32::MAX)?;
                logits
                    .try_sub(labels)?
                    .try_div(scale)?
                    .try_abs()?
                    .try_mean::<(usize,), Axis<1>>()?
                    .try_mul(100.0f32)
            }
            DeviceLoss::MeanSquaredLogarithmicError => {
                let shifted = labels
                    .try_clamp(EPSILON, f32::MAX)?
                    .try_add(1.0f32)?
                    .try_ln()?;
                logits
                    .try_clamp(EPSILON, f32::MAX)?
                    .try_add(1.0f32)?
                    .try_ln()?
                    .try_sub(shifted)?
                    .try_square()?
                    .try_mean::<(usize,), Axis<1>>()
            }
            DeviceLoss::Huber { delta } => logits
                .try_huber_error(labels, delta)?
                .try_mean::<(usize,), Axis<1>>(),
            DeviceLoss::LogCosh => {
                let e = logits.try_sub(labels)?.try_abs()?;
                let tail = e
                    .retaped::<T>()
                    .try_mul(-2.0f32)?
                    .try_exp()?
                    .try_add(1.0f32)?
                    .try_ln()?;
                e.try_add(tail)?
                    .try_sub(std::f32::consts::LN_2)?
                    .try_mean::<(usize,), Axis<1>>()
            }
            DeviceLoss::Poisson => {
                let log = logits
                    .retaped::<T>()
                    .try_add(EPSILON)?
                    .try_ln()?
                    .try_mul(labels)?;
                logits.try_sub(log)?.try_mean::<(usize,), Axis<1>>()
            }
            DeviceLoss::KlDivergence => {
                // sum(t ln t - t ln p): the first term is the labels' own (no gradient).
                let entropy = labels.clone().try_ln()?.try_mul(labels.clone())?;
                logits
                    .try_clamp(EPSILON, 1.0f32)?
                    .try_ln()?
                    .try_mul(labels)?
                    .try_negate()?
                    .try_add(entropy)?
                    .try_sum::<(usize,), Axis<1>>()
            }
            DeviceLoss::Hinge { squared } => {
                let margin = logits
                    .try_mul(labels)?
                    .try_negate()?
                    .try_add(1.0f32)?
                    .try_relu()?;
                let margin = if squared {
                    margin.try_square()?
                } else {
                    margin
                };
                margin.try_mean::<(usize,), Axis<1>>()
            }
            DeviceLoss::CategoricalHinge => {
                let negatives = labels.clone().try_negate()?.try_add(1.0f32)?;
                let neg = logits
                    .retaped::<T>()
                    .try_mul(negatives)?
                    .try_max::<(usize,), Axis<1>>()?;
                let pos = logits.try_mul(labels)?.try_sum::<(usize,), Axis<1>>()?;
                neg.try_sub(pos)?.try_add(1.0f32)?.try_relu()
            }
            DeviceLoss::CosineSimilarity => {
                // min(1 / sqrt(s), 1 / eps) as 1 / sqrt(max(s, eps²)): the same factor, and a
                // zero row's gradient stays finite (the clamp's slope is 0 there).
                let inverse_norm = logits
                    .retaped::<T>()
                    .try_square()?
                    .try_sum::<(usize,), Axis<1>>()?
                    .try_clamp(EPSILON * EPSILON, f32::MAX)?
                    .try_sqrt()?
                    .try_recip()?
                    .try_broadcast_like(&(rows_of(&labels), Const::<K>))?;
                logits
                    .try_mul(inverse_norm)?
                    .try_mul(labels)?
                    .try_sum::<(usize,), Axis<1>>()?
                    .try_negate()
            }
            DeviceLoss::BinaryCrossentropy => {
                let p = logits.try_clamp(EPSILON, 1.0 - EPSILON)?;
                let negatives = labels.clone().try_negate()?.try_add(1.0f32)?;
                let log_not = p
                    .retaped::<T>()
                    .try_negate()?
                    .try_add(1.0f32)?
                    .try_ln()?
                    .try_mul(negatives)?;
                p.try_ln()?
                    .try_mul(labels)?
                    .try_add(log_not)?
                    .try_negate()?
                    .try_mean::<(usize,), Axis<1>>()
            }
            DeviceLoss::CategoricalCrossentropy => {
                let sums = logits
                    .retaped::<T>()
                    .try_sum::<(usize,), Axis<1>>()?
                    .try_broadcast_like(&(rows_of(&labels), Const::<K>))?;
                logits
                    .try_div(sums)?
                    .try_clamp(EPSILON, 1.0 - EPSILON)?
                    .try_ln()?
                    .try_mul(labels)?
                    .try_sum::<(usize,), Axis<1>>()?
                    .try_negate()
            }
            DeviceLoss::BinaryFocalCrossentropy {
                from_logits,
                gamma,
                alpha,
            } => {
                let p = if from_logits {
                    logits.try_sigmoid()?
                } else {
                    logits
                };
                // `p` itself (its tape) goes where it is used last.
                let (pc, focus) = if gamma == 0.0 {
                    (p.try_clamp(EPSILON, 1.0 - EPSILON)?, None)
                } else {
                    (p.retaped::<T>().try_clamp(EPSILON, 1.0 - EPSILON)?, Some(p))
                };
                let negatives = labels.clone().try_negate()?.try_add(1.0f32)?;
                let log_not = pc
                    .retaped::<T>()
                    .try_negate()?
                    .try_add(1.0f32)?
                    .try_ln()?
                    .try_mul(negatives)?;
                let bce = pc
                    .try_ln()?
                    .try_mul(labels.clone())?
                    .try_add(log_not)?
                    .try_negate()?;
                let focal = match focus {
                    None => bce,
                    Some(p) => {
                        // 1 - p_t = t + p (1 - 2t).
                        let slope = labels.clone().try_mul(-2.0f32)?.try_add(1.0f32)?;
                        p.try_mul(slope)?
                            .try_add(labels.clone())?
                            .try_powf(gamma)?
                            .try_mul(bce)?
                    }
                };
                let focal = match alpha {
                    Some(alpha) => {
                        // t alpha + (1 - t)(1 - alpha) = (1 - alpha) + t (2 alpha - 1).
                        let weight = labels.try_mul(2.0 * alpha - 1.0)?.try_add(1.0 - alpha)?;
                        focal.try_mul(weight)?
                    }
                    None => focal,
                };
                focal.try_mean::<(usize,), Axis<1>>()
            }
            DeviceLoss::CategoricalFocalCrossentropy {
                from_logits,
                gamma,
                alpha,
            } => {
                let p = if from_logits {
                    logits.try_softmax::<Axis<1>>()?
                } else {
                    logits
                };
                let sums = p
                    .retaped::<T>()
                    .try_sum::<(usize,), Axis<1>>()?
                    .try_broadcast_like(&(rows_of(&labels), Const::<K>))?;
                let o = p.try_div(sums)?.try_clamp(EPSILON, 1.0 - EPSILON)?;
                let weighted = if gamma == 0.0 {
                    o.try_ln()?.try_mul(labels)?.try_negate()?.try_mul(alpha)?
                } else {
                    let cce = o.retaped::<T>().try_ln()?.try_mul(labels)?.try_negate()?;
                    o.try_negate()?
                        .try_add(1.0f32)?
                        .try_powf(gamma)?
                        .try_mul(alpha)?
                        .try_mul(cce)?
                };
                weighted.try_sum::<(usize,), Axis<1>>()
            }
        }
    }

    /// Turns labels copied from the batch (`rows × cols`, row-major) into the labels
    /// [`per_row`](DeviceLoss::per_row) takes: for the hinges, `2t - 1` when every label of
    /// the batch is 0 or 1 (Keras's `convert_binary_labels_to_hinge`); for KL divergence,
    /// clipped to `[eps, 1]`; for cosine similarity, each row scaled to unit norm as the
    /// predictions are. Unchanged for the other forms.
    pub fn prepare_labels(self, labels: &mut [f32], cols: usize) {
        match self {
            DeviceLoss::Hinge { .. } if labels.iter().all(|&t| t == 0.0 || t == 1.0) => {
                labels.iter_mut().for_each(|t| *t = 2.0 * *t - 1.0);
            }
            DeviceLoss::KlDivergence => {
                labels.iter_mut().for_each(|t| *t = t.clamp(EPSILON, 1.0));
            }
            DeviceLoss::CosineSimilarity if cols > 0 => {
                for row in labels.chunks_mut(cols) {
                    let square_sum: f32 = row.iter().map(|v| v * v).sum();
                    let inverse = (1.0 / square_sum.sqrt()).min(1.0 / EPSILON);
                    row.iter_mut().for_each(|v| *v *= inverse);
                }
            }
            _ => {}
        }
    }
}

/// The number of rows of a `(rows, K)` tensor.
fn rows_of<const K: usize, D: Device<f32>>(t: &Tensor<(usize, Const<K>), f32, D>) -> usize {
    t.shape().0
}

impl DeviceLoss {
    /// What [`reduce`](DeviceLoss::reduce) divides the weighted sum of `rows` per-row values
    /// by, as [`compute_loss`](super::compute_loss) does: 1 for `sum`, the weights' sum for
    /// `mean_with_sample_weight` with per-row `weights`, else the number of rows.
    pub fn divisor(reduction: Reduction, weights: Option<&[f32]>, rows: usize) -> f32 {
        match (reduction, weights) {
            (Reduction::Sum, _) => 1.0,
            (Reduction::MeanWithSampleWeight, Some(w)) => w.iter().sum(),
            _ => rows as f32,
        }
    }

    /// Keras's reduction of the per-row values (times the per-row `weights`) to the loss, on
    /// the device: `sum(w * rows) / divisor` (see [`divisor`](DeviceLoss::divisor)), 0 when
    /// `divisor` is 0 (Keras's `divide_no_nan`).
    pub fn reduce<D, T>(
        rows: Tensor<(usize,), f32, D, T>,
        weights: Option<Tensor<(usize,), f32, D>>,
        divisor: f32,
    ) -> Result<Tensor<(), f32, D, T>, D::Err>
    where
        D: Device<f32>,
        T: Tape<f32, D> + Merge<NoneTape>,
    {
        reduce_with_ops(rows, weights, divisor)
    }

    /// The loss of `logits` (on its tape) against `labels`, reduced with the per-row `weights`
    /// and the `divisor` as [`reduce`](DeviceLoss::reduce) does: the softmax crossentropy as the
    /// device's fused op ([`SoftmaxCrossentropyKernel`]: on `Cuda` one kernel each way instead
    /// of dfdx's chain of about ten), every other form as [`per_row`](DeviceLoss::per_row) then
    /// [`reduce`](DeviceLoss::reduce).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::prelude::*;
    /// use keras_core::losses::DeviceLoss;
    /// let dev = Cpu::default();
    /// let logits: Tensor<(usize, Const<2>), f32, _> =
    ///     dev.tensor_from_vec(vec![0.0, 0.0, 3.0, 1.0], (2, Const));
    /// let labels = dev.tensor_from_vec(vec![1.0, 0.0, 0.0, 1.0], (2, Const::<2>));
    /// let fused = DeviceLoss::SoftmaxCrossentropy.loss(logits.clone(), labels.clone(), None, 2.0)?;
    /// let rows = DeviceLoss::SoftmaxCrossentropy.per_row(logits, labels)?;
    /// let chained = DeviceLoss::reduce(rows, None, 2.0)?;
    /// assert!((fused.array() - chained.array()).abs() < 1e-6);
    /// # Ok::<(), CpuError>(())
    /// ```
    pub fn loss<const K: usize, D, T>(
        self,
        logits: Tensor<(usize, Const<K>), f32, D, T>,
        labels: Tensor<(usize, Const<K>), f32, D>,
        weights: Option<Tensor<(usize,), f32, D>>,
        divisor: f32,
    ) -> Result<Tensor<(), f32, D, T>, D::Err>
    where
        D: SoftmaxCrossentropyKernel,
        T: Tape<f32, D> + Merge<NoneTape>,
    {
        match self {
            DeviceLoss::SoftmaxCrossentropy => {
                try_softmax_crossentropy(logits, &labels, weights.as_ref(), divisor)
            }
            form => DeviceLoss::reduce(form.per_row(logits, labels)?, weights, divisor),
        }
    }
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use super::DeviceLoss;
    use crate::losses::{
        compute_loss, BinaryCrossentropy, CategoricalCrossentropy, LossFn, LossScratch,
        MeanSquaredError, Reduction, SampleWeight, SparseCategoricalCrossentropy,
    };

    const ROWS: usize = 4;
    const K: usize = 3;

    fn logits() -> Vec<f32> {
        (0..ROWS * K)
            .map(|i| (i as f32 * 0.7).sin() * 2.0)
            .collect()
    }

    /// The loss value and its gradient with respect to the logits, on the host
    /// ([`compute_loss`]) and through the loss's device form on `Cpu`, both as `fit` runs it
    /// ([`DeviceLoss::loss`]: the fused op for the softmax crossentropy) and as dfdx's chain of
    /// ops ([`DeviceLoss::per_row`], [`DeviceLoss::reduce`]); they must agree.
    fn agrees<L: LossFn>(loss: &L, y_true: &[f32], weights: Option<&[f32]>) {
        agrees_through(loss, y_true, weights, true);
        agrees_through(loss, y_true, weights, false);
    }

    fn agrees_through<L: LossFn>(loss: &L, y_true: &[f32], weights: Option<&[f32]>, fused: bool) {
        let x = logits();
        let shape = [ROWS, K];
        let mut scratch = LossScratch::default();
        let sw = weights.map(|w| SampleWeight {
            values: w,
            shape: &shape[..1],
        });
        let host = compute_loss(loss, y_true, &x, &shape, sw, true, &mut scratch).unwrap();

        let dev = Cpu::default();
        let mut labels = Vec::new();
        let form = loss
            .device_form(y_true, ROWS, K, &mut labels)
            .unwrap()
            .expect("the loss has a device form");
        let t: Tensor<(usize, Const<K>), f32, Cpu> = dev.tensor_from_vec(x, (ROWS, Const));
        let traced = t.leaky_trace();
        let labels = dev.tensor_from_vec(labels, (ROWS, Const::<K>));
        let divisor = DeviceLoss::divisor(loss.reduction(), weights, ROWS);
        let w = weights.map(|w| dev.tensor_from_vec(w.to_vec(), (ROWS,)));
        let value = if fused {
            form.loss(traced, labels, w, divisor).unwrap()
        } else {
            DeviceLoss::reduce(form.per_row(traced, labels).unwrap(), w, divisor).unwrap()
        };
        let got = value.array();
        let grads = value.backward();
        let g = grads.get(&t).as_vec();
        let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs().max(1.0);
        assert!(
            close(got, host.value),
            "{}: {got} vs {}",
            loss.name(),
            host.value
        );
        for (a, b) in g.iter().zip(scratch.grad()) {
            assert!(
                close(*a, *b),
                "{} gradient: {g:?} vs {:?}",
                loss.name(),
                scratch.grad()
            );
        }
    }

    #[test]
    fn every_device_form_gives_the_host_loss_and_gradient() {
        let sparse = [2.0, 0.0, 1.0, 2.0];
        let dense: Vec<f32> = (0..ROWS * K).map(|i| ((i % 3) == 1) as u8 as f32).collect();
        let binary: Vec<f32> = (0..ROWS * K).map(|i| (i % 2) as f32).collect();
        let weights = [0.5, 2.0, 0.0, 1.5];
        for reduction in [
            Reduction::SumOverBatchSize,
            Reduction::Sum,
            Reduction::Mean,
            Reduction::MeanWithSampleWeight,
        ] {
            for w in [None, Some(&weights[..])] {
                let scce = SparseCategoricalCrossentropy::default()
                    .with_from_logits(true)
                    .with_reduction(reduction);
                agrees(&scce, &sparse, w);
                let cce = CategoricalCrossentropy::default()
                    .with_from_logits(true)
                    .with_label_smoothing(0.2)
                    .unwrap()
                    .with_reduction(reduction);
                agrees(&cce, &dense, w);
                let bce = BinaryCrossentropy::default()
                    .with_from_logits(true)
                    .with_label_smoothing(0.1)
                    .unwrap()
                    .with_reduction(reduction);
                agrees(&bce, &binary, w);
                agrees(
                    &MeanSquaredError::default().with_reduction(reduction),
                    &dense,
                    w,
                );
            }
        }
    }

    #[test]
    fn an_ignored_class_gets_a_row_of_zeros_and_bad_labels_are_typed_errors() {
        let mut labels = Vec::new();
        let ignoring = SparseCategoricalCrossentropy::default()
            .with_from_logits(true)
            .with_ignore_class(Some(0));
        let form = ignoring
            .device_form(&[0.0, 2.0], 2, K, &mut labels)
            .unwrap();
        assert_eq!(form, Some(DeviceLoss::SoftmaxCrossentropy));
        assert_eq!(labels, [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]);
        let scce = SparseCategoricalCrossentropy::default().with_from_logits(true);
        assert!(matches!(
            scce.device_form(&[3.0], 1, K, &mut labels),
            Err(crate::Error::ClassOutOfRange { .. })
        ));
        assert!(matches!(
            MeanSquaredError::default().device_form(&[1.0; 2], 1, K, &mut labels),
            Err(crate::Error::ShapeMismatch { .. })
        ));
    }
}
