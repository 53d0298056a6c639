//! The IoU counts' update on `Cpu`: each element's true and predicted ids and its weight, as the
//! host metric reads them, added to the `i64` counts in element order.

use super::{class_id, ClassIds, IouForm};
use crate::kernels::metric::argmax;

/// Adds one batch (`rows × cols` predictions, [`IouForm::labels`] labels, optional per-row
/// weights) to `counts` ([`IouForm::device_len`] values: the counts, then the check words). A
/// true id the form skips ([`IouForm::ignore_class`]) or outside the classes adds nothing (the
/// trainer checks labels before a batch reaches the kernel); a predicted id outside the classes
/// adds nothing and is recorded in the check words.
pub(crate) fn update(
    form: &IouForm,
    y_true: &[f32],
    y_pred: &[f32],
    rows: usize,
    cols: usize,
    weights: Option<&[f32]>,
    counts: &mut [i64],
) {
    let classes = form.classes;
    let n = form.elements(rows, cols);
    let per_row = (n / rows.max(1)).max(1);
    let (cells, check) = counts.split_at_mut(form.cells());
    let in_range = |id: i64| (0..classes as i64).contains(&id);
    for e in 0..n {
        let r = e / per_row;
        let t = match form.truth {
            ClassIds::ArgMax => argmax(&y_true[r * cols..(r + 1) * cols]) as i64,
            _ => class_id(y_true[e]),
        };
        if form.ignore_class == Some(t) || !in_range(t) {
            continue;
        }
        let p = match form.pred {
            ClassIds::ArgMax => argmax(&y_pred[r * cols..(r + 1) * cols]) as i64,
            ClassIds::Threshold(threshold) => i64::from(y_pred[e] >= threshold),
            ClassIds::Values => {
                let value = y_pred[e];
                let id = class_id(value);
                if !in_range(id) || !value.is_finite() {
                    if check[0] == 0 {
                        check[1] = i64::from(value.to_bits());
                        check[2] = e as i64;
                    }
                    check[0] += 1;
                    continue;
                }
                id
            }
        };
        let w = weights.map_or(1, |w| class_id(w[r]));
        let cell = &mut cells[t as usize * classes + p as usize];
        *cell = cell.wrapping_add(w);
    }
}

#[cfg(test)]
mod tests {
    use super::super::{bad_prediction, cells::BadPrediction};
    use super::*;

    fn form(truth: ClassIds, pred: ClassIds, classes: usize) -> IouForm {
        IouForm::for_test(truth, pred, classes)
    }

    #[test]
    fn weights_truncate_toward_zero_and_may_be_negative() {
        let f = form(ClassIds::Values, ClassIds::Values, 2);
        let mut counts = vec![0; f.device_len()];
        let (t, p) = ([0.0, 1.0, 1.0, 0.0], [0.0, 1.0, 0.0, 0.0]);
        update(&f, &t, &p, 4, 1, Some(&[0.79, 1.5, 2.0, -3.2]), &mut counts);
        assert_eq!(&counts[..4], &[-3, 0, 2, 1]);
    }

    #[test]
    fn out_of_range_predictions_are_skipped_and_the_first_is_recorded() {
        let f = form(ClassIds::Values, ClassIds::Values, 3);
        let mut counts = vec![0; f.device_len()];
        update(
            &f,
            &[0.0, 1.0, 2.0, 2.0],
            &[0.0, 3.0, f32::NAN, 2.0],
            4,
            1,
            None,
            &mut counts,
        );
        assert_eq!(counts[0], 1);
        assert_eq!(counts[8], 1);
        assert_eq!(counts[..9].iter().sum::<i64>(), 2);
        assert_eq!(
            bad_prediction(&f, &counts),
            Some(BadPrediction {
                value: 3.0,
                index: 1
            })
        );
        assert_eq!(counts[9], 2, "both bad predictions are counted");
    }

    #[test]
    fn one_hot_rows_and_scores_are_arg_maxed_and_the_ignored_class_skipped() {
        let f = IouForm {
            ignore_class: Some(2),
            ..form(ClassIds::ArgMax, ClassIds::ArgMax, 3)
        };
        let mut counts = vec![0; f.device_len()];
        let t = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let p = [0.2, 0.7, 0.1, 0.5, 0.4, 0.1, 0.3, 0.3, 0.3];
        update(&f, &t, &p, 3, 3, None, &mut counts);
        // Row 0: true 1, predicted 1; row 1: true 2, skipped; row 2: true 0, predicted 0 (tie).
        assert_eq!(&counts[..9], &[1, 0, 0, 0, 1, 0, 0, 0, 0]);
    }

    #[test]
    fn a_threshold_maps_each_prediction_to_zero_or_one() {
        let f = form(ClassIds::Values, ClassIds::Threshold(0.3), 2);
        let mut counts = vec![0; f.device_len()];
        update(
            &f,
            &[1.0, 0.0, 1.0, 0.0],
            &[0.3, 0.2, 0.1, f32::NAN],
            2,
            2,
            None,
            &mut counts,
        );
        assert_eq!(&counts[..4], &[2, 0, 1, 1]);
    }
}
