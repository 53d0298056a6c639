//! `keras.losses.SparseCategoricalCrossentropy`.

use super::{Loss, LossFn, Reduction, EPSILON};
use crate::{target::Sparse, Error, Result};

/// Crossentropy between integer class ids and predicted probabilities or logits.
///
/// With `from_logits`, the loss is `-log_softmax(y_pred)[y_true]`. On probabilities Keras first
/// renormalises each row to sum to 1, then clips to `[1e-7, 1 - 1e-7]` (in `f32`), then takes
/// `-ln p[y_true]`; so does this type. `ignore_class` masks out rows whose label equals it: they
/// contribute 0 and `sum_over_batch_size` divides by the number of valid rows.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, SparseCategoricalCrossentropy};
/// let loss = SparseCategoricalCrossentropy::default().with_from_logits(true);
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[0.0], &[0.0, 0.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct SparseCategoricalCrossentropy {
    from_logits: bool,
    ignore_class: Option<i64>,
    reduction: Reduction,
}

impl SparseCategoricalCrossentropy {
    /// Whether `y_pred` holds logits. Defaults to `false`.
    pub fn with_from_logits(mut self, from_logits: bool) -> Self {
        self.from_logits = from_logits;
        self
    }

    /// A class id to ignore (masked out of the loss). Defaults to `None`.
    pub fn with_ignore_class(mut self, ignore_class: Option<i64>) -> Self {
        self.ignore_class = ignore_class;
        self
    }

    /// The reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.reduction = reduction;
        self
    }

    fn is_ignored(&self, label: f32) -> bool {
        self.ignore_class.is_some_and(|c| label == c as f32)
    }
}

impl LossFn for SparseCategoricalCrossentropy {
    fn name(&self) -> &str {
        "sparse_categorical_crossentropy"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) -> Result<()> {
        if y_true.len() != values.len() {
            return Err(Error::ShapeMismatch {
                name: "y_true",
                expected: format!("{} class ids, one per row of y_pred", values.len()),
                got: format!("{} values", y_true.len()),
            });
        }
        for (r, v) in values.iter_mut().enumerate() {
            let label = y_true[r];
            let row = &y_pred[r * cols..(r + 1) * cols];
            let g = grad.as_deref_mut().map(|g| &mut g[r * cols..(r + 1) * cols]);
            if self.is_ignored(label) {
                *v = 0.0;
                if let Some(g) = g {
                    g.fill(0.0);
                }
                continue;
            }
            if label < 0.0 || label.fract() != 0.0 || label as usize >= cols {
                return Err(Error::ClassOutOfRange {
                    label,
                    index: r,
                    num_classes: cols,
                });
            }
            let t = label as usize;
            if self.from_logits {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let sum: f32 = row.iter().map(|&x| (x - max).exp()).sum();
                let log_sum = sum.ln();
                *v = -((row[t] - max) - log_sum);
                if let Some(g) = g {
                    for (c, gc) in g.iter_mut().enumerate() {
                        let p = (row[c] - max).exp() / sum;
                        *gc = p - if c == t { 1.0 } else { 0.0 };
                    }
                }
            } else {
                let sum: f32 = row.iter().sum();
                let p = row[t] / sum;
                let clipped = p.clamp(EPSILON, 1.0 - EPSILON);
                *v = -clipped.ln();
                if let Some(g) = g {
                    let inside = p > EPSILON && p < 1.0 - EPSILON;
                    for (c, gc) in g.iter_mut().enumerate() {
                        *gc = if inside {
                            let dp = (if c == t { sum } else { 0.0 } - row[t]) / (sum * sum);
                            -dp / clipped
                        } else {
                            0.0
                        };
                    }
                }
            }
        }
        Ok(())
    }

    fn mask(&self, y_true: &[f32], mask: &mut [f32]) -> bool {
        if self.ignore_class.is_none() {
            return false;
        }
        for (m, &t) in mask.iter_mut().zip(y_true) {
            *m = if self.is_ignored(t) { 0.0 } else { 1.0 };
        }
        true
    }
}

impl<const K: usize> Loss<K> for SparseCategoricalCrossentropy {
    type Target = Sparse;
}
