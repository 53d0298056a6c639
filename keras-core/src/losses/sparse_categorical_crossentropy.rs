//! `keras.losses.SparseCategoricalCrossentropy`.

use super::numeric::{clip, clip_slope, log_softmax};
use super::setters::loss_setters;
use super::{check_rows, check_sparse, DeviceLoss, Loss, LossFn, Reduction, EPSILON};
use crate::{target::Sparse, Error, Result};

/// Crossentropy between integer class ids and predicted probabilities or logits.
///
/// With `from_logits`, the loss is `-log_softmax(y_pred)[y_true]`. On probabilities Keras first
/// renormalises each row to sum to 1, then clips to `[1e-7, 1 - 1e-7]` (in `f32`), then takes
/// `-ln p[y_true]`; so does this type. `ignore_class` masks out rows whose label equals it: they
/// contribute 0 (and get a zero gradient), and `sum_over_batch_size` divides by the number of
/// valid rows.
///
/// A label that is not an integer in `0..K` (and not `ignore_class`) is an
/// [`Error::ClassOutOfRange`]; Keras's JAX backend would silently give it a loss of 0.
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
    loss_setters!(from_logits, reduction);

    /// A class id to ignore (masked out of the loss). Defaults to `None`.
    pub fn with_ignore_class(mut self, ignore_class: Option<i64>) -> Self {
        self.ignore_class = ignore_class;
        self
    }

    fn is_ignored(&self, label: f32) -> bool {
        self.ignore_class.is_some_and(|c| label == c as f32)
    }
}

/// Reads a sparse label as a class id in `0..cols`.
pub(crate) fn class_id(label: f32, row: usize, cols: usize) -> Result<usize> {
    if label >= 0.0 && label.fract() == 0.0 && (label as usize) < cols {
        Ok(label as usize)
    } else {
        Err(Error::ClassOutOfRange {
            label,
            index: row,
            num_classes: cols,
        })
    }
}

impl LossFn for SparseCategoricalCrossentropy {
    fn keras_config(&self) -> Option<serde_json::Value> {
        if self.reduction != crate::losses::Reduction::default() || self.ignore_class.is_some() {
            return None;
        }
        Some(super::keras_config::crossentropy(
            "SparseCategoricalCrossentropy",
            self.name(),
            self.from_logits,
            None,
        ))
    }

    fn name(&self) -> &str {
        "sparse_categorical_crossentropy"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::SoftmaxCrossentropy`] from logits, else
    /// [`DeviceLoss::CategoricalCrossentropy`], on one-hot rows (a label outside `0..cols` is an
    /// [`Error::ClassOutOfRange`], as on the host); a row whose label is `ignore_class` is all
    /// zeros, and [`mask_weights`](super::mask_weights) weighs it out of the reduction.
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        check_sparse(y_true, rows)?;
        labels.clear();
        labels.resize(rows * cols, 0.0);
        for (r, &label) in y_true.iter().enumerate() {
            // An ignored row keeps a row of zeros: its value and gradient are 0, and
            // `mask_weights` takes it out of the reduction.
            if !self.is_ignored(label) {
                labels[r * cols + class_id(label, r, cols)?] = 1.0;
            }
        }
        Ok(Some(match self.from_logits {
            true => DeviceLoss::SoftmaxCrossentropy,
            false => DeviceLoss::CategoricalCrossentropy,
        }))
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) -> Result<()> {
        check_rows(y_pred, cols, values, grad.as_deref())?;
        check_sparse(y_true, values.len())?;
        let mut work = vec![0.0f32; cols];
        for (r, v) in values.iter_mut().enumerate() {
            let label = y_true[r];
            let row = &y_pred[r * cols..(r + 1) * cols];
            let g = grad
                .as_deref_mut()
                .map(|g| &mut g[r * cols..(r + 1) * cols]);
            if self.is_ignored(label) {
                *v = 0.0;
                if let Some(g) = g {
                    g.fill(0.0);
                }
                continue;
            }
            let t = class_id(label, r, cols)?;
            if self.from_logits {
                log_softmax(row, &mut work);
                *v = -work[t];
                if let Some(g) = g {
                    for (c, (gc, &lp)) in g.iter_mut().zip(&work).enumerate() {
                        *gc = lp.exp() - if c == t { 1.0 } else { 0.0 };
                    }
                }
            } else {
                let sum: f32 = row.iter().sum();
                let q = row[t] / sum;
                let qc = clip(q, EPSILON, 1.0 - EPSILON);
                *v = -qc.ln();
                if let Some(g) = g {
                    // d(-ln q_t)/dp_c = -(1/q_t) * (delta_ct - q_t) / sum.
                    let a = -clip_slope(q, EPSILON, 1.0 - EPSILON) / qc;
                    for (c, gc) in g.iter_mut().enumerate() {
                        let delta = if c == t { 1.0 } else { 0.0 };
                        *gc = a * (delta - q) / sum;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_outside_the_classes_is_an_error() {
        let loss = SparseCategoricalCrossentropy::default();
        let mut v = [0.0];
        let err = loss
            .per_sample(&[2.0], &[0.5, 0.5], 2, &mut v, None)
            .unwrap_err();
        assert!(matches!(err, Error::ClassOutOfRange { num_classes: 2, .. }));
    }

    #[test]
    fn an_ignored_label_may_lie_outside_the_classes() {
        let loss = SparseCategoricalCrossentropy::default().with_ignore_class(Some(-1));
        let mut v = [1.0];
        loss.per_sample(&[-1.0], &[0.5, 0.5], 2, &mut v, None)
            .unwrap();
        assert_eq!(v, [0.0]);
    }

    #[test]
    fn keras_docstring_example_matches() {
        let loss = SparseCategoricalCrossentropy::default();
        let mut v = [0.0; 2];
        loss.per_sample(
            &[1.0, 2.0],
            &[0.05, 0.95, 0.0, 0.1, 0.8, 0.1],
            3,
            &mut v,
            None,
        )
        .unwrap();
        assert!((v[0] - 0.0513).abs() < 1e-4 && (v[1] - 2.303).abs() < 1e-3);
    }

    #[test]
    fn it_takes_one_class_id_per_sample() {
        let target: Sparse = <SparseCategoricalCrossentropy as Loss<4>>::Target::default();
        assert_eq!(target, Sparse);
    }
}
