//! `keras.metrics.BinaryIoU`.

use super::{
    inputs,
    iou_matrix::{self, IouMatrix},
    Direction, IouForm, Metric, MetricFn,
};
use crate::{target::Dense, Result};

/// Intersection over union of the binary classes 0 and/or 1 (`target_class_ids`, default both,
/// averaged). Each prediction becomes class 1 when `y_pred >= threshold` (note: not strict),
/// else class 0; labels are 0/1 ids. Every element counts; a row's `sample_weight` weighs all of
/// its elements (Keras only accepts per-row weights for one column).
///
/// As with every Keras 3 IoU metric, ids and sample weights are truncated to integers before
/// they are accumulated: fractional weights such as `0.3` count as 0.
///
/// # Examples
/// ```
/// use keras_core::metrics::{BinaryIoU, MetricFn};
/// let mut iou = BinaryIoU::new(&[0, 1], 0.3).unwrap();
/// iou.update_state(&[0.0, 1.0, 0.0, 1.0], &[0.1, 0.2, 0.4, 0.7], 1, None).unwrap();
/// assert!((iou.result() - 1.0 / 3.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone)]
pub struct BinaryIoU {
    target_class_ids: Vec<usize>,
    threshold: f32,
    matrix: IouMatrix,
}

impl Default for BinaryIoU {
    fn default() -> Self {
        Self {
            target_class_ids: vec![0, 1],
            threshold: 0.5,
            matrix: IouMatrix::new(2),
        }
    }
}

impl BinaryIoU {
    /// The metric for `target_class_ids` (a non-empty subset of `{0, 1}`) at `threshold`.
    /// `BinaryIoU::default()` is `new(&[0, 1], 0.5)`.
    pub fn new(target_class_ids: &[usize], threshold: f32) -> Result<Self> {
        iou_matrix::check_targets(target_class_ids, 2)?;
        Ok(Self {
            target_class_ids: target_class_ids.to_vec(),
            threshold,
            matrix: IouMatrix::new(2),
        })
    }
}

impl MetricFn for BinaryIoU {
    fn name(&self) -> &str {
        "binary_io_u"
    }

    fn keras_config(&self) -> Option<serde_json::Value> {
        let args = serde_json::json!({
            "target_class_ids": self.target_class_ids,
            "threshold": super::keras_config::float(self.threshold),
        });
        Some(super::keras_config::object_with_dtype(
            "BinaryIoU",
            self.name(),
            "int32",
            args,
        ))
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
        inputs::dense_rows(y_true, y_pred, cols)?;
        inputs::check_weights(sample_weight, y_pred.len() / cols)?;
        for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
            let Some(t) = self.matrix.id(t, i, None)? else {
                continue;
            };
            let p = usize::from(p >= self.threshold);
            let w = sample_weight.map_or(1, |w| crate::kernels::iou::class_id(w[i / cols]));
            self.matrix.add(t, p, w);
        }
        Ok(())
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

    fn iou_form(&self) -> Option<IouForm> {
        self.matrix.form(
            crate::kernels::ClassIds::Values,
            crate::kernels::ClassIds::Threshold(self.threshold),
            None,
        )
    }

    fn state_values(&self) -> Option<Vec<f32>> {
        Some(self.matrix.state_values())
    }

    fn load_state_values(&mut self, values: &[f32]) -> Result<()> {
        self.matrix.load_state_values(values, "binary_io_u")
    }
}

impl<const K: usize> Metric<K> for BinaryIoU {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prediction_on_the_threshold_is_class_one() {
        let mut iou = BinaryIoU::new(&[1], 0.5).unwrap();
        iou.update_state(&[1.0], &[0.5], 1, None).unwrap();
        assert!((iou.result() - 1.0).abs() < 1e-6);
    }

    #[test]
    fn target_ids_must_be_binary_classes() {
        assert!(BinaryIoU::new(&[2], 0.5).is_err());
        assert!(BinaryIoU::new(&[], 0.5).is_err());
    }
}
