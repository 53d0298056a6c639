//! [`MeanBatch`]: one batch of a mean metric's inputs on a device.

use super::RowMetric;

/// One batch of a mean metric's inputs, on a device: `rows × cols` predictions, the labels (one
/// per row for sparse forms, else `rows × cols`), the per-row weights, and the weight of every
/// row when there are none (1 for a metric, the batch size for the loss tracker).
#[derive(Debug)]
pub struct MeanBatch<'a, B: ?Sized> {
    /// The predictions, row-major.
    pub y_pred: &'a B,
    /// The labels (unused by [`RowMetric::Value`]).
    pub y_true: &'a B,
    /// One weight per row, if any.
    pub weights: Option<&'a B>,
    /// The weight of each row without `weights`.
    pub unit_weight: f32,
    /// Rows in the batch.
    pub rows: usize,
    /// Predictions per row.
    pub cols: usize,
}

impl<B: ?Sized> MeanBatch<'_, B> {
    /// Whether the buffers are as long as the batch's shape says for `form` (`len` tells a
    /// buffer's length) and a state at `offset` fits in `state_len` values: what both kernels
    /// check before they read.
    pub(crate) fn fits(
        &self,
        form: RowMetric,
        len: impl Fn(&B) -> usize,
        state_len: usize,
        offset: usize,
    ) -> bool {
        let label_width = if form.sparse_labels() { 1 } else { self.cols };
        len(self.y_pred) >= self.rows * self.cols
            && (!form.reads_labels() || len(self.y_true) >= self.rows * label_width)
            && !matches!(self.weights, Some(w) if len(w) < self.rows)
            && state_len >= offset + 2
    }
}
