//! `keras.metrics.OneHotIoU`.

use super::{
    iou_matrix::{self, IouLayout, IouMatrix},
    Direction, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Intersection over union for the classes in `target_class_ids`, with one-hot labels: both
/// labels and predictions are arg-maxed over their `C` columns, then as [`IoU`](super::IoU).
///
/// Keras 3 keeps the confusion matrix in integers: class ids **and `sample_weight`** are cast to
/// integers (truncated toward zero) before accumulating, so a weight of `0.79` contributes
/// nothing and `1.5` counts once. This type does the same.
///
/// In a [`MetricSet`](super::MetricSet) for a `K`-wide output, `C == 0` or `K != C` is a
/// build error.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, OneHotIoU};
/// let mut iou = OneHotIoU::<3>::new(&[0, 2]).unwrap();
/// let y_true = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
/// let y_pred = [0.2, 0.3, 0.5, 0.1, 0.2, 0.7, 0.5, 0.3, 0.1, 0.1, 0.4, 0.5];
/// iou.update_state(&y_true, &y_pred, 3, None).unwrap();
/// // Class 0: tp 0, union 3; class 2: tp 1, union 3.
/// assert!((iou.result() - (1.0 / 3.0) / 2.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct OneHotIoU<const C: usize> {
    target_class_ids: Vec<usize>,
    ignore_class: Option<i64>,
    sparse_y_pred: bool,
    matrix: IouMatrix,
}

impl<const C: usize> OneHotIoU<C> {
    /// The metric over `C` classes, averaged over `target_class_ids`; `C == 0` or an id `>= C`
    /// is an [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn new(target_class_ids: &[usize]) -> Result<Self> {
        iou_matrix::check_classes(C)?;
        iou_matrix::check_targets(target_class_ids, C)?;
        Ok(Self {
            target_class_ids: target_class_ids.to_vec(),
            ignore_class: None,
            sparse_y_pred: false,
            matrix: IouMatrix::new(C),
        })
    }

    /// A label id whose entries are skipped (e.g. a "void" class). Defaults to `None`.
    pub fn with_ignore_class(mut self, ignore_class: Option<i64>) -> Self {
        self.ignore_class = ignore_class;
        self
    }

    /// Whether `y_pred` holds class ids instead of one score per class (arg-maxed). Defaults
    /// to `false`.
    pub fn with_sparse_y_pred(mut self, sparse_y_pred: bool) -> Self {
        self.sparse_y_pred = sparse_y_pred;
        self
    }
}

impl<const C: usize> MetricFn for OneHotIoU<C> {
    fn name(&self) -> &str {
        "one_hot_io_u"
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
            sparse_y_true: false,
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

impl<const K: usize, const C: usize> Metric<K> for OneHotIoU<C> {
    type Target = Dense<K>;
    const CHECK: () = assert!(
        C >= 1 && K == C,
        "OneHotIoU<C> needs C >= 1 and K == C, the model's output width"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_predictions_are_used_as_ids() {
        let mut m = OneHotIoU::<2>::new(&[1]).unwrap().with_sparse_y_pred(true);
        m.update_state(&[0.0, 1.0, 0.0, 1.0], &[1.0, 1.0], 1, None)
            .unwrap();
        assert!((m.result() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn zero_classes_are_rejected() {
        assert!(matches!(
            OneHotIoU::<0>::new(&[0]),
            Err(crate::Error::InvalidArgument { .. })
        ));
    }
}
