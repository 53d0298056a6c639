//! `keras.metrics.IoU`.

use super::iou_base::iou_metric;
use crate::Result;

iou_metric!(
    /// Intersection over union for the classes in `target_class_ids`, averaged: per class
    /// `tp / (tp + fp + fn)` from a confusion matrix accumulated over everything seen so far.
    ///
    /// Labels are class ids (one per sample); predictions are class ids by default, or one score
    /// per class with `with_sparse_y_pred(false)` (arg-maxed). Classes whose union is empty are
    /// left out of the average.
    ///
    /// Keras 3 keeps the confusion matrix in integers: class ids **and `sample_weight`** are cast
    /// to integers (truncated toward zero) before accumulating, so a weight of `0.79` contributes
    /// nothing and `1.5` counts once. This type does the same.
    ///
    /// In a [`MetricSet`](super::MetricSet) for a `K`-wide output, `C == 0` or `K` other than 1
    /// (ids) or `C` (scores) is a build error.
    ///
    /// # Examples
    /// ```
    /// use keras_core::metrics::{IoU, MetricFn};
    /// let mut iou = IoU::<2>::new(&[0]).unwrap();
    /// iou.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 1.0, 0.0, 1.0], 1, None).unwrap();
    /// assert!((iou.result() - 1.0 / 3.0).abs() < 1e-6);
    /// ```
    IoU,
    "io_u",
    sparse_y_true: true
);

impl<const K: usize, const C: usize> crate::metrics::Metric<K> for IoU<C> {
    type Target = crate::target::Sparse;
    const CHECK: () = assert!(C >= 1 && (K == 1 || K == C), "{}", CLASSES);
}

/// What [`IoU`]'s build-time check says.
const CLASSES: &str = "IoU<C> needs C >= 1 and K == 1 (class ids) or K == C (one score per class)";

impl<const C: usize> IoU<C> {
    /// The metric over `C` classes, averaged over `target_class_ids`; `C == 0` or an id `>= C`
    /// is an [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn new(target_class_ids: &[usize]) -> Result<Self> {
        Self::from_targets(Some(target_class_ids))
    }
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
