//! `keras.metrics.OneHotIoU`.

use super::iou_base::iou_metric;
use crate::Result;

iou_metric!(
    /// Intersection over union for the classes in `target_class_ids`, with one-hot labels: both
    /// labels and predictions are arg-maxed over their `C` columns, then as [`IoU`](super::IoU).
    ///
    /// Keras 3 keeps the confusion matrix in integers: class ids **and `sample_weight`** are cast
    /// to integers (truncated toward zero) before accumulating, so a weight of `0.79` contributes
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
    OneHotIoU,
    "one_hot_io_u",
    sparse_y_true: false
);

impl<const K: usize, const C: usize> crate::metrics::Metric<K> for OneHotIoU<C> {
    type Target = crate::target::Dense<K>;
    const CHECK: () = assert!(C >= 1 && K == C, "{}", CLASSES);
}

/// What [`OneHotIoU`]'s build-time check says.
const CLASSES: &str = "OneHotIoU<C> needs C >= 1 and K == C, the model's output width";

impl<const C: usize> OneHotIoU<C> {
    /// The metric over `C` classes, averaged over `target_class_ids`; `C == 0` or an id `>= C`
    /// is an [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn new(target_class_ids: &[usize]) -> Result<Self> {
        Self::from_targets(Some(target_class_ids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

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
