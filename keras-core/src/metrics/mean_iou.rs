//! `keras.metrics.MeanIoU`.

use super::iou_base::iou_metric;
use crate::Result;

iou_metric!(
    /// Mean intersection over union over all `C` classes: per class `tp / (tp + fp + fn)` from a
    /// confusion matrix accumulated over everything seen so far, averaged over the classes whose
    /// union is not empty.
    ///
    /// Labels are class ids (one per sample; use [`OneHotMeanIoU`](super::OneHotMeanIoU) for
    /// one-hot labels); predictions are class ids by default, or one score per class with
    /// `with_sparse_y_pred(false)` (arg-maxed).
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
    /// use keras_core::metrics::{MeanIoU, MetricFn};
    /// let mut miou = MeanIoU::<2>::new().unwrap();
    /// miou.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 1.0, 0.0, 1.0], 1, None).unwrap();
    /// assert!((miou.result() - 1.0 / 3.0).abs() < 1e-6);
    /// // Weights are truncated to integers: 0.3 and 0.1 count as 0.
    /// miou.reset_state();
    /// miou.update_state(&[0.0, 0.0, 1.0, 1.0], &[0.0, 1.0, 0.0, 1.0], 1, Some(&[0.3, 0.3, 0.3, 0.1]))
    ///     .unwrap();
    /// assert_eq!(miou.result(), 0.0);
    /// ```
    MeanIoU,
    "mean_io_u",
    sparse_y_true: true
);

impl<const K: usize, const C: usize> crate::metrics::Metric<K> for MeanIoU<C> {
    type Target = crate::target::Sparse;
    const CHECK: () = assert!(C >= 1 && (K == 1 || K == C), "{}", CLASSES);
}

/// What [`MeanIoU`]'s build-time check says.
const CLASSES: &str =
    "MeanIoU<C> needs C >= 1 and K == 1 (class ids) or K == C (one score per class)";

impl<const C: usize> MeanIoU<C> {
    /// The metric over `C` classes; `C == 0` is an
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument).
    pub fn new() -> Result<Self> {
        Self::from_targets(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::MetricFn;

    #[test]
    fn dense_predictions_are_arg_maxed() {
        let mut m = MeanIoU::<2>::new().unwrap().with_sparse_y_pred(false);
        m.update_state(&[0.0, 1.0], &[0.9, 0.1, 0.2, 0.8], 2, None)
            .unwrap();
        assert!((m.result() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn zero_classes_are_rejected() {
        assert!(matches!(
            MeanIoU::<0>::new(),
            Err(crate::Error::InvalidArgument { .. })
        ));
    }
}
