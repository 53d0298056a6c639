//! The integer confusion matrix behind Keras's IoU metrics (`_IoUBase`).

use super::{inputs, row_math::argmax, row_math::EPSILON};
use crate::kernels::iou::{class_id, join, split};
use crate::kernels::{ClassIds, IouForm};
use crate::{Error, Result};

/// How labels and predictions are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IouLayout {
    /// Labels are class ids (else one-hot / probability rows, arg-maxed).
    pub sparse_y_true: bool,
    /// Predictions are class ids (else probability rows, arg-maxed).
    pub sparse_y_pred: bool,
    /// Label id whose entries are skipped.
    pub ignore_class: Option<i64>,
}

/// A `classes × classes` confusion matrix (rows: true class, columns: predicted class) of
/// integer counts, as Keras 3 keeps it: ids and sample weights are cast to integers (truncated
/// toward zero) before accumulating.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IouMatrix {
    classes: usize,
    cells: Vec<i64>,
}

/// Where the low halves start in [`IouMatrix::state_values`]: after the packed state's header
/// (the part count and three part lengths) and the class count.
const STATE_OFFSET: usize = 5;

/// Validates a class count for an IoU metric.
pub(crate) fn check_classes(classes: usize) -> Result<()> {
    if classes == 0 {
        return Err(Error::invalid(
            "num_classes",
            "num_classes must be at least 1",
        ));
    }
    Ok(())
}

/// Validates `target_class_ids` against the class count.
pub(crate) fn check_targets(targets: &[usize], classes: usize) -> Result<()> {
    if targets.is_empty() {
        return Err(Error::invalid(
            "target_class_ids",
            "give at least one class id",
        ));
    }
    if let Some(t) = targets.iter().find(|&&t| t >= classes) {
        return Err(Error::invalid(
            "target_class_ids",
            format!("target class id {t} is out of range [0, {classes})"),
        ));
    }
    Ok(())
}

/// Element `index`'s class id among `classes`: `value` truncated to an integer; `None` for the
/// ignored class; an [`Error::ClassOutOfRange`] outside the classes or for a value that is not
/// finite.
pub(crate) fn checked_id(
    value: f32,
    index: usize,
    classes: usize,
    ignore: Option<i64>,
) -> Result<Option<usize>> {
    let id = class_id(value);
    if ignore == Some(id) {
        return Ok(None);
    }
    if id < 0 || id as usize >= classes || !value.is_finite() {
        return Err(Error::ClassOutOfRange {
            label: value,
            index,
            num_classes: classes,
        });
    }
    Ok(Some(id as usize))
}

impl IouMatrix {
    pub(crate) fn new(classes: usize) -> Self {
        Self {
            classes,
            cells: vec![0; classes * classes],
        }
    }

    /// A class id: the value truncated to an integer; `None` for the ignored class.
    pub(crate) fn id(
        &self,
        value: f32,
        index: usize,
        ignore: Option<i64>,
    ) -> Result<Option<usize>> {
        checked_id(value, index, self.classes, ignore)
    }

    /// Adds one entry with an integer weight.
    pub(crate) fn add(&mut self, true_id: usize, pred_id: usize, weight: i64) {
        self.cells[true_id * self.classes + pred_id] += weight;
    }

    /// Accumulates a batch: one entry per prediction id, weighted by its row's `sample_weight`
    /// truncated to an integer.
    pub(crate) fn update(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        sample_weight: Option<&[f32]>,
        layout: IouLayout,
    ) -> Result<()> {
        let rows = inputs::rows(y_pred, cols)?;
        inputs::check_weights(sample_weight, rows)?;
        let pred: Vec<f32> = if layout.sparse_y_pred {
            y_pred.to_vec()
        } else {
            y_pred.chunks(cols).map(|r| argmax(r) as f32).collect()
        };
        let truth: Vec<f32> = if layout.sparse_y_true {
            y_true.to_vec()
        } else if y_true.len().checked_rem(pred.len()) != Some(0) {
            return Err(shape_error(y_true.len(), pred.len(), "one-hot rows"));
        } else {
            let width = y_true.len() / pred.len();
            y_true
                .chunks(width.max(1))
                .map(|r| argmax(r) as f32)
                .collect()
        };
        if truth.len() != pred.len() {
            return Err(shape_error(truth.len(), pred.len(), "class ids"));
        }
        let per_row = pred.len() / rows.max(1);
        for (i, (&t, &p)) in truth.iter().zip(&pred).enumerate() {
            let Some(t) = self.id(t, i, layout.ignore_class)? else {
                continue;
            };
            let Some(p) = self.id(p, i, None)? else {
                continue;
            };
            let w = sample_weight.map_or(1, |w| class_id(w[i / per_row.max(1)]));
            self.add(t, p, w);
        }
        Ok(())
    }

    /// Keras's `IoU.result`: `tp / (row_sum + col_sum - tp + 1e-7)` per target class, summed and
    /// divided by the number of targets with a non-zero denominator (plus `1e-7`).
    pub(crate) fn result(&self, targets: &[usize]) -> f32 {
        let c = self.classes;
        let mut sum = 0.0f32;
        let mut valid = 0.0f32;
        for &k in targets {
            let predicted: i64 = (0..c).map(|i| self.cells[i * c + k]).sum();
            let actual: i64 = (0..c).map(|j| self.cells[k * c + j]).sum();
            let tp = self.cells[k * c + k];
            let denominator = (predicted + actual - tp) as f32;
            if denominator > 1e-9 {
                valid += 1.0;
            }
            sum += tp as f32 / (denominator + EPSILON);
        }
        sum / (valid + EPSILON)
    }

    pub(crate) fn reset(&mut self) {
        self.cells.iter_mut().for_each(|x| *x = 0);
    }

    /// The matrix as one flat state: each count as two exact `f32`s, its low 24 bits and the
    /// rest (counts up to 2^48), from [`STATE_OFFSET`].
    pub(crate) fn state_values(&self) -> Vec<f32> {
        let (low, high): (Vec<f32>, Vec<f32>) = self.cells.iter().map(|&c| split(c)).unzip();
        super::packed_state::pack(&[&[self.classes as f32], &low, &high])
    }

    /// The device form of the update for labels and predictions read as `truth` and `pred`,
    /// when the kernels count it ([`IouForm::is_supported`]).
    pub(crate) fn form(
        &self,
        truth: ClassIds,
        pred: ClassIds,
        ignore_class: Option<i64>,
    ) -> Option<IouForm> {
        let form = IouForm {
            classes: self.classes,
            truth,
            pred,
            ignore_class,
            offset: STATE_OFFSET,
        };
        form.is_supported().then_some(form)
    }

    /// Restores [`state_values`](Self::state_values) for the same class count.
    pub(crate) fn load_state_values(&mut self, values: &[f32], metric: &str) -> Result<()> {
        let parts = super::packed_state::unpack(values, 3, metric)?;
        if parts[0] != [self.classes as f32] || parts[1].len() != self.cells.len() {
            return Err(Error::invalid(
                "state",
                format!(
                    "metric `{metric}`: the saved matrix is not {} × {}",
                    self.classes, self.classes
                ),
            ));
        }
        let exact = |v: &f32| v.fract() == 0.0 && v.abs() < 16_777_216.0;
        if !parts[1].iter().chain(parts[2]).all(exact) || parts[2].len() != parts[1].len() {
            return Err(Error::invalid(
                "state",
                format!("metric `{metric}`: the saved counts are not integers"),
            ));
        }
        for (cell, (low, high)) in self.cells.iter_mut().zip(parts[1].iter().zip(parts[2])) {
            *cell = join(*low, *high);
        }
        Ok(())
    }

    pub(crate) fn merge(&mut self, other: &Self) -> Result<()> {
        inputs::check_same("num_classes", &self.classes, &other.classes)?;
        self.cells
            .iter_mut()
            .zip(&other.cells)
            .for_each(|(a, b)| *a += b);
        Ok(())
    }
}

fn shape_error(got: usize, expected: usize, what: &str) -> Error {
    Error::ShapeMismatch {
        name: "y_true",
        expected: format!("{what} for {expected} predictions"),
        got: format!("{got} values"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPARSE: IouLayout = IouLayout {
        sparse_y_true: true,
        sparse_y_pred: true,
        ignore_class: None,
    };

    #[test]
    fn fractional_weights_are_truncated_toward_zero() {
        let mut m = IouMatrix::new(2);
        m.update(
            &[0.0, 1.0, 1.0],
            &[0.0, 1.0, 0.0],
            1,
            Some(&[0.79, 1.5, 2.0]),
            SPARSE,
        )
        .unwrap();
        assert_eq!(m.cells, [0, 0, 2, 1]);
    }

    #[test]
    fn the_form_points_at_the_low_halves_of_the_saved_state() {
        let mut m = IouMatrix::new(3);
        m.add(2, 1, 5);
        let form = m.form(ClassIds::Values, ClassIds::Values, None).unwrap();
        let state = m.state_values();
        assert_eq!(
            state[form.offset - 1],
            3.0,
            "the class count precedes the halves"
        );
        assert_eq!(state[form.offset + 2 * 3 + 1], 5.0);
        assert_eq!(state.len(), form.offset + 2 * form.cells());
        assert_eq!(m.form(ClassIds::ArgMax, ClassIds::Values, None), None);
    }

    #[test]
    fn the_ignored_class_is_skipped() {
        let mut m = IouMatrix::new(2);
        let layout = IouLayout {
            ignore_class: Some(-1),
            ..SPARSE
        };
        m.update(&[-1.0, 1.0], &[0.0, 1.0], 1, None, layout)
            .unwrap();
        assert_eq!(m.cells, [0, 0, 0, 1]);
    }

    #[test]
    fn ids_outside_the_classes_are_errors() {
        let mut m = IouMatrix::new(2);
        assert!(m.update(&[2.0], &[0.0], 1, None, SPARSE).is_err());
        assert!(check_classes(0).is_err());
        assert!(check_targets(&[2], 2).is_err());
    }
}
