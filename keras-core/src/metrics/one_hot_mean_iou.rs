//! `keras.metrics.OneHotMeanIoU`.

use super::iou_base::iou_metric;
use crate::Result;

iou_metric!(
    /// Mean intersection over union over all `C` classes, with one-hot labels: both labels and
    /// predictions are arg-maxed over their `C` columns, then as [`MeanIoU`](super::MeanIoU).
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
    /// use keras_core::metrics::{MetricFn, OneHotMeanIoU};
    /// let mut miou = OneHotMeanIoU::<3>::new().unwrap();
    /// let y_true = [0.0, 0.0, 1.0, 1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
    /// let y_pred = [0.2, 0.3, 0.5, 0.1, 0.2, 0.7, 0.5, 0.3, 0.1, 0.1, 0.4, 0.5];
    /// miou.update_state(&y_true, &y_pred, 3, None).unwrap();
    /// // IoUs: class 0: 0, class 1: 0, class 2: 1/3; all three unions are non-empty.
    /// assert!((miou.result() - (1.0 / 3.0) / 3.0).abs() < 1e-6);
    /// ```
    OneHotMeanIoU,
    "one_hot_mean_io_u",
    sparse_y_true: false
);

impl<const K: usize, const C: usize> crate::metrics::Metric<K> for OneHotMeanIoU<C> {
    type Target = crate::target::Dense<K>;
    const CHECK: () = assert!(C >= 1 && K == C, "{}", CLASSES);
}

/// What [`OneHotMeanIoU`]'s build-time check says.
const CLASSES: &str = "OneHotMeanIoU<C> needs C >= 1 and K == C, the model's output width";

impl<const C: usize> OneHotMeanIoU<C> {
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
