//! `keras.metrics.IoU`.

use super::{
    iou_matrix::{self, IouLayout, IouMatrix},
    Direction, Metric, MetricFn,
};
use crate::{target::Sparse, Result};

/// Intersection over union for the classes in `target_class_ids`, averaged: per class
/// `tp / (tp + fp + fn)` from a confusion matrix accumulated over everything seen so far.
///
/// Labels are class ids (one per sample); predictions are class ids by default, or one score
/// per class with `with_sparse_y_pred(false)` (arg-maxed). Classes whose union is empty are left
/// out of the average.
///
/// Keras 3 keeps the confusion matrix in integers: class ids **and `sample_weight`** are cast to
/// integers (truncated toward zero) before accumulating, so a weight of `0.79` contributes
/// nothing and `1.5` counts once. This type does the same.
///
/// In a [`MetricSet`](super::MetricSet) for a `K`-wide output, `C == 0` or `K` other than 1 (ids) or `C` (scores) is a
/// build error.
///
/// # Examples
/// ```
/// use keras_core::metrics::{IoU, MetricFn};
/// let mut iou = IoU::<2>::new(&[0]).unwrap();
/// iou.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 1.0, 0.0, 1.0], 1, None).unwrap();
/// assert!((iou.result() - 1.0 / 3.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct IoU<const C: usize> {
    target_class_ids: Vec<usize>,
    ignore_class: Option<i64>,
    sparse_y_pred: bool,
    matrix: IouMatrix,
}

impl<const C: usize> IoU<C> {
    /// The metric over `C` classes, averaged over `target_class_ids`; `C == 0` or an id `>= C`
    /// is an [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn new(target_class_ids: &[usize]) -> Result<Self> {
        iou_matrix::check_classes(C)?;
        iou_matrix::check_targets(target_class_ids, C)?;
        Ok(Self {
            target_class_ids: target_class_ids.to_vec(),
            ignore_class: None,
            sparse_y_pred: true,
            matrix: IouMatrix::new(C),
        })
    }

    /// A label id whose entries are skipped (e.g. a "void" class). Defaults to `None`.
    pub fn with_ignore_class(mut self, ignore_class: Option<i64>) -> Self {
        self.ignore_class = ignore_class;
        self
    }

    /// Whether `y_pred` holds class ids instead of one score per class (arg-maxed). Defaults
    /// to `true`.
    pub fn with_sparse_y_pred(mut self, sparse_y_pred: bool) -> Self {
        self.sparse_y_pred = sparse_y_pred;
        self
    }
}

impl<const C: usize> MetricFn for IoU<C> {
    fn name(&self) -> &str {
        "io_u"
    }

    fn direction(&self) -> Direction {
        Direction::Up
    }

    fn update_state(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let layout = IouLayout {
            sparse_y_true: true,
            sparse_y_pred: self.sparse_y_pred,
            ignore_class: self.ignore_class,
        };
        self.matrix
            .update(y_true, y_pred, cols, sample_weight, layout)
    }

    fn result(&self) -> f32 {
        self.matrix.result(&self.target_class_ids)
    }

    fn reset_state(&mut self) {
        self.matrix.reset();
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.matrix.merge(&other.matrix)
    }
}

impl<const K: usize, const C: usize> Metric<K> for IoU<C> {
    type Target = Sparse;
    const CHECK: () = assert!(
        C >= 1 && (K == 1 || K == C),
        "IoU<C> needs C >= 1 and K == 1 (class ids) or K == C (one score per class)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_ids_beyond_the_classes_are_rejected() {
        assert!(IoU::<3>::new(&[3]).is_err());
        assert!(IoU::<3>::new(&[]).is_err());
    }

    #[test]
    fn zero_classes_are_rejected() {
        assert!(matches!(
            IoU::<0>::new(&[0]),
            Err(crate::Error::InvalidArgument { .. })
        ));
    }
}
