//! The mean metric update on `Cpu`: the rows of [`RowMetric::row_in`] over host slices, summed in
//! order, exactly as the host metrics sum them.

use super::{add_batch, MeanBatch, RowMetric};

/// Adds one batch of `form`'s rows to the running `[total, count]` in `state` (two floats).
pub(crate) fn update(form: RowMetric, batch: &MeanBatch<'_, [f32]>, state: &mut [f32]) {
    let MeanBatch {
        y_pred,
        y_true,
        weights,
        unit_weight,
        rows,
        cols,
    } = *batch;
    let label_width = if form.sparse_labels() { 1 } else { cols };
    let mapped = y_true
        .get(..rows * label_width)
        .is_some_and(|labels| form.maps_binary_labels(labels));
    let value = |r: usize| {
        let p = &y_pred[r * cols..(r + 1) * cols];
        let t = if form.reads_labels() {
            &y_true[r * label_width..(r + 1) * label_width]
        } else {
            &[][..]
        };
        form.row_in(mapped, t, p)
    };
    match weights {
        Some(w) => add_batch(state, (0..rows).map(|r| (value(r), w[r]))),
        None => add_batch(state, (0..rows).map(|r| (value(r), unit_weight))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_adds_its_weighted_sum_and_its_weights() {
        let y_pred = [0.1, 0.9, 0.8, 0.2, 0.3, 0.7];
        let y_true = [1.0, 1.0, 1.0];
        let weights = [0.5, 2.0, 1.0];
        let mut state = [1.0, 1.0];
        let batch = MeanBatch {
            y_pred: &y_pred[..],
            y_true: &y_true[..],
            weights: Some(&weights[..]),
            unit_weight: 1.0,
            rows: 3,
            cols: 2,
        };
        update(RowMetric::ArgmaxIsLabel, &batch, &mut state);
        // Rows 0 and 2 are hits: 0.5 + 1.0 added to the total, 3.5 to the count.
        assert_eq!(state, [2.5, 4.5]);
    }

    #[test]
    fn the_loss_tracker_weighs_its_one_value_by_the_batch_size() {
        let loss = [0.25];
        let mut state = [0.0, 0.0];
        let batch = MeanBatch {
            y_pred: &loss[..],
            y_true: &loss[..],
            weights: None,
            unit_weight: 8.0,
            rows: 1,
            cols: 1,
        };
        update(RowMetric::Value, &batch, &mut state);
        assert_eq!(state, [2.0, 8.0]);
    }
}
