//! [`IouForm`]: an IoU metric's update in a form both device kernels compute.

/// How a class id is read from a batch's labels or predictions.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum ClassIds {
    /// Each value is an id, truncated toward zero (Keras's cast to an integer).
    Values,
    /// Each row's arg-max (its first maximum) is an id: one id per row.
    ArgMax,
    /// Each value is id 1 at or above the threshold, else 0 (`BinaryIoU`'s predictions).
    Threshold(f32),
}

/// The update of an IoU metric's confusion matrix: how the true and predicted class ids are
/// read, which true class is skipped, and where the counts sit in the metric's saved state.
///
/// # Examples
/// ```
/// use keras_core::kernels::ClassIds;
/// use keras_core::metrics::{MeanIoU, MetricFn};
/// let iou = MeanIoU::<3>::new().unwrap().with_sparse_y_pred(false);
/// let form = iou.iou_form().expect("a mean IoU has a device form");
/// assert_eq!((form.truth, form.pred), (ClassIds::Values, ClassIds::ArgMax));
/// assert_eq!(form.elements(4, 3), 4);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct IouForm {
    /// The number of classes: the matrix is `classes × classes`.
    pub classes: usize,
    /// How true ids are read: [`ClassIds::Values`] (one per element) or [`ClassIds::ArgMax`]
    /// (one-hot label rows as wide as the predictions).
    pub truth: ClassIds,
    /// How predicted ids are read.
    pub pred: ClassIds,
    /// A true id whose elements are skipped.
    pub ignore_class: Option<i64>,
    /// Where the counts' low halves start in the metric's saved state; the high halves follow
    /// them, `classes × classes` values each.
    pub offset: usize,
}

impl IouForm {
    /// The check words after the counts in a device state: how many predicted ids were out of
    /// range, the bits of the first such prediction and its element's index in its batch (the
    /// first in element order of the first batch that had one), then two words the CUDA kernel
    /// uses within a launch and leaves at 0.
    pub const CHECK_LEN: usize = 5;

    /// The largest class count a device form takes: beyond it the matrix stays with the host
    /// metric.
    pub const MAX_CLASSES: usize = 1 << 12;

    /// `classes × classes`.
    pub fn cells(&self) -> usize {
        self.classes * self.classes
    }

    /// The length of a device state: the counts and the check words.
    pub fn device_len(&self) -> usize {
        self.cells() + Self::CHECK_LEN
    }

    /// The elements of a `rows × cols` batch: one per row for arg-maxed predictions, else one
    /// per value.
    pub fn elements(&self, rows: usize, cols: usize) -> usize {
        match self.pred {
            ClassIds::ArgMax => rows,
            _ => rows * cols,
        }
    }

    /// The labels a `rows × cols` batch must have: one per element for
    /// [`ClassIds::Values`], else `rows × cols`.
    pub fn labels(&self, rows: usize, cols: usize) -> usize {
        match self.truth {
            ClassIds::Values => self.elements(rows, cols),
            _ => rows * cols,
        }
    }

    /// `saved` (the metric's saved state, whose halves start at [`offset`](Self::offset)) with
    /// the counts of a device state added: the state to load into the metric. `None` when
    /// `saved` or `counts` is too short for the form.
    pub fn add_counts(&self, saved: &[f32], counts: &[i64]) -> Option<Vec<f32>> {
        super::cells::add_counts(self, saved, counts)
    }

    /// Whether the kernels count this form at all: arg-maxed labels come with arg-maxed
    /// predictions, labels are never thresholded, a threshold makes two classes, and the
    /// classes are at most [`MAX_CLASSES`](Self::MAX_CLASSES). A metric offers a form only
    /// where this holds.
    pub fn is_supported(&self) -> bool {
        let argmax = |ids| matches!(ids, ClassIds::ArgMax);
        (!argmax(self.truth) || argmax(self.pred))
            && !matches!(self.truth, ClassIds::Threshold(_))
            && (!matches!(self.pred, ClassIds::Threshold(_)) || self.classes == 2)
            && (1..=Self::MAX_CLASSES).contains(&self.classes)
    }

    /// Whether the form fits a `cols`-wide output: it [is supported](Self::is_supported), and
    /// arg-maxed rows are no wider than the classes (so every arg-max is a class id).
    pub fn fits(&self, cols: usize) -> bool {
        self.is_supported() && (self.pred != ClassIds::ArgMax || cols <= self.classes)
    }
}

#[cfg(test)]
impl IouForm {
    /// A form over `classes` with no ignored class and counts at offset 0, for tests.
    pub(crate) fn for_test(truth: ClassIds, pred: ClassIds, classes: usize) -> Self {
        Self {
            classes,
            truth,
            pred,
            ignore_class: None,
            offset: 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(truth: ClassIds, pred: ClassIds, classes: usize) -> IouForm {
        IouForm::for_test(truth, pred, classes)
    }

    #[test]
    fn arg_maxed_rows_fit_up_to_one_column_per_class() {
        let scores = form(ClassIds::Values, ClassIds::ArgMax, 3);
        assert!(scores.fits(3) && scores.fits(1));
        assert!(!scores.fits(4));
        assert!(form(ClassIds::Values, ClassIds::Values, 3).fits(7));
    }

    #[test]
    fn unsupported_forms_fit_no_width() {
        let one_hot_ids = form(ClassIds::ArgMax, ClassIds::Values, 3);
        assert!(!one_hot_ids.is_supported() && !one_hot_ids.fits(3));
        assert!(!form(ClassIds::Values, ClassIds::Threshold(0.5), 3).is_supported());
        assert!(form(ClassIds::Values, ClassIds::Threshold(0.5), 2).is_supported());
        assert!(!form(ClassIds::Values, ClassIds::Values, 0).is_supported());
        let too_many = form(ClassIds::Values, ClassIds::Values, IouForm::MAX_CLASSES + 1);
        assert!(!too_many.is_supported());
    }
}
