//! [`ConfusionForm`]: a confusion-matrix metric's update in a form both device kernels compute.

use std::borrow::Cow;

/// How a prediction is compared with the thresholds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Comparison {
    /// Positive at a threshold when strictly above it.
    Above,
    /// Keras's bucketed update for evenly spaced thresholds: the prediction, clipped to
    /// `[0, 1]`, lands in bucket `ceil(p (n - 1)) - 1` (at least 0 when the end points carry an
    /// epsilon) and counts as positive at the thresholds up to its bucket.
    Buckets {
        /// Whether the first and last thresholds are `-eps` and `1 + eps` (AUC's grid).
        with_epsilon: bool,
    },
}

/// The update of a confusion-matrix metric's counts: the thresholds, the comparison, which
/// predictions count (the `k` largest of each row, a class id) and how they are weighted, and
/// where the counts sit in the metric's state.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MetricFn, Precision};
/// let precision = Precision::new();
/// let form = precision.confusion_form().expect("a precision has a device form");
/// assert_eq!(form.thresholds.as_ref(), &[0.5]);
/// assert_eq!(form.labels, 1);
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ConfusionForm<'a> {
    /// The thresholds, in order.
    pub thresholds: Cow<'a, [f32]>,
    /// How predictions are compared with them.
    pub comparison: Comparison,
    /// Label columns the counts keep: 1, or each column's own with `multi_label`.
    pub labels: usize,
    /// Keep only the `k` largest predictions of each row (ties to the lower index); the others
    /// count as `-1e10`.
    pub top_k: Option<usize>,
    /// Count only this column.
    pub class_id: Option<usize>,
    /// Keep one count per column.
    pub multi_label: bool,
    /// Per-column weights multiplied into the sample weights (not with `multi_label`).
    pub label_weights: Option<Cow<'a, [f32]>>,
    /// Whether the predictions are logits, turned into probabilities by a sigmoid first
    /// (`AUC(from_logits=True)`).
    pub from_logits: bool,
    /// Where `tp` starts in the metric's state; `fp`, `tn`, `fn` follow it.
    pub offset: usize,
}

impl ConfusionForm<'_> {
    /// `thresholds × labels`: the length of each of the four counts.
    pub fn len(&self) -> usize {
        self.thresholds.len() * self.labels
    }

    /// Whether the counts are empty (no threshold or no label column).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The label columns counts of a `cols`-wide output keep under this form: each selected
    /// column's own with `multi_label` (one with a class id), else 1.
    pub fn labels_for(&self, cols: usize) -> usize {
        match (self.multi_label, self.class_id) {
            (true, None) => cols,
            _ => 1,
        }
    }

    /// The form with its slices owned, to keep beside a device state.
    pub fn into_owned(self) -> ConfusionForm<'static> {
        ConfusionForm {
            thresholds: Cow::Owned(self.thresholds.into_owned()),
            label_weights: self.label_weights.map(|w| Cow::Owned(w.into_owned())),
            ..self
        }
    }

    /// The [`Selection`](super::Selection) the counts take.
    pub(crate) fn selection(&self) -> super::Selection<'_> {
        super::Selection {
            top_k: self.top_k,
            class_id: self.class_id,
            multi_label: self.multi_label,
            label_weights: self.label_weights.as_deref(),
        }
    }
}

/// A form's constants on a device, uploaded once: the thresholds and the label weights.
#[derive(Debug)]
pub struct ConfusionConsts<B> {
    /// [`ConfusionForm::thresholds`].
    pub thresholds: B,
    /// [`ConfusionForm::label_weights`].
    pub label_weights: Option<B>,
}
