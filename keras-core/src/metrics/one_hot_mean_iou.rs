//! `keras.metrics.OneHotMeanIoU`.

use super::{
    iou_matrix::{self, IouLayout, IouMatrix},
    Direction, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Mean intersection over union over all `C` classes, with one-hot labels: both labels and
/// predictions are arg-maxed over their `C` columns, then as [`MeanIoU`](super::MeanIoU).
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
/// use keras_core::metrics::{MetricFn, OneHotMeanIoU};
/// let mut miou = OneHotMeanIoU::<3>::new().unwrap();
/// let y_true = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
/// let y_pred = [0.2, 0.3, 0.5, 0.1, 0.2, 0.7, 0.5, 0.3, 0.1, 0.1, 0.4, 0.5];
/// miou.update_state(&y_true, &y_pred, 3, None).unwrap();
/// // IoUs: class 0: 0, class 1: 0, class 2: 1/3; all three unions are non-empty.
/// assert!((miou.result() - (1.0 / 3.0) / 3.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct OneHotMeanIoU<const C: usize> {
    ignore_class: Option<i64>,
    sparse_y_pred: bool,
    matrix: IouMatrix,
}

impl<const C: usize> OneHotMeanIoU<C> {
    /// The metric over `C` classes; `C == 0` is an [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn new() -> Result<Self> {
        iou_matrix::check_classes(C)?;
        Ok(Self {
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

impl<const C: usize> MetricFn for OneHotMeanIoU<C> {
    fn name(&self) -> &str {
        "one_hot_mean_io_u"
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
        self.matrix.result(&(0..C).collect::<Vec<_>>())
    }

    fn reset_state(&mut self) {
        self.matrix.reset();
    }

    fn merge_state(&mut self, other: &Self) -> Result<()> {
        self.matrix.merge(&other.matrix)
    }
}

impl<const K: usize, const C: usize> Metric<K> for OneHotMeanIoU<C> {
    type Target = Dense<K>;
    const CHECK: () = assert!(
        C >= 1 && K == C,
        "OneHotMeanIoU<C> needs C >= 1 and K == C, the model's output width"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_class_never_seen_is_left_out_of_the_mean() {
        let mut m = OneHotMeanIoU::<3>::new().unwrap();
        m.update_state(&[1.0, 0.0, 0.0], &[0.9, 0.1, 0.0], 3, None)
            .unwrap();
        assert!((m.result() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn zero_classes_are_rejected() {
        assert!(matches!(
            OneHotMeanIoU::<0>::new(),
            Err(crate::Error::InvalidArgument { .. })
        ));
    }
}
