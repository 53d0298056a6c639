//! The integer arithmetic both the host IoU metrics and the device states use: class ids and
//! weights truncated toward zero, counts saved as two exact `f32` halves, and a device state's
//! counts added to a saved state.

use super::IouForm;

/// A value as Keras's cast to an integer gives it: truncated toward zero (Rust's `as`: NaN is
/// 0, values beyond the range saturate). `iou.cu`'s `keras_iou_trunc` is the same.
pub(crate) fn class_id(value: f32) -> i64 {
    value as i64
}

/// A count as the saved state keeps it: its low 24 bits and the rest, each exact in `f32`
/// (counts up to 2^48 in magnitude).
pub(crate) fn split(count: i64) -> (f32, f32) {
    ((count & 0xFF_FFFF) as f32, (count >> 24) as f32)
}

/// The count [`split`] saved.
pub(crate) fn join(low: f32, high: f32) -> i64 {
    ((high as i64) << 24) + low as i64
}

/// A predicted class id out of range that a device state recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BadPrediction {
    /// The prediction.
    pub value: f32,
    /// Its element's index in its batch.
    pub index: usize,
}

/// The first out-of-range prediction a device state (counts, then check words) recorded.
pub(crate) fn bad_prediction(form: &IouForm, counts: &[i64]) -> Option<BadPrediction> {
    let check = counts.get(form.cells()..form.device_len())?;
    (check[0] > 0).then(|| BadPrediction {
        value: f32::from_bits(check[1] as u32),
        index: usize::try_from(check[2]).unwrap_or(usize::MAX),
    })
}

/// `saved` (a metric's saved state, whose halves start at `form.offset`) with the device's
/// `counts` added; `None` when `saved` is too short for the form.
pub(crate) fn add_counts(form: &IouForm, saved: &[f32], counts: &[i64]) -> Option<Vec<f32>> {
    let cells = form.cells();
    let end = form.offset + 2 * cells;
    if saved.len() < end || counts.len() < cells {
        return None;
    }
    let mut out = saved.to_vec();
    let (low, high) = out[form.offset..end].split_at_mut(cells);
    for ((l, h), &add) in low.iter_mut().zip(high.iter_mut()).zip(counts) {
        (*l, *h) = split(join(*l, *h).wrapping_add(add));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::ClassIds;

    #[test]
    fn split_counts_join_back_negative_and_beyond_24_bits() {
        for count in [
            0,
            1,
            -1,
            16_777_215,
            16_777_216,
            -16_777_217,
            1 << 40,
            -(1 << 47),
        ] {
            let (low, high) = split(count);
            assert_eq!(join(low, high), count, "{count}");
            assert!((0.0..16_777_216.0).contains(&low));
        }
    }

    #[test]
    fn ids_truncate_toward_zero_as_rust_casts_do() {
        assert_eq!(class_id(2.9), 2);
        assert_eq!(class_id(-0.5), 0);
        assert_eq!(class_id(-1.5), -1);
        assert_eq!(class_id(f32::NAN), 0);
        assert_eq!(class_id(f32::INFINITY), i64::MAX);
    }

    #[test]
    fn device_counts_add_to_the_saved_halves_with_a_carry() {
        let form = IouForm {
            offset: 1,
            ..IouForm::for_test(ClassIds::Values, ClassIds::Values, 1)
        };
        let (low, high) = split(16_777_215);
        let saved = [9.0, low, high];
        let out = add_counts(&form, &saved, &[3]).unwrap();
        assert_eq!(out[0], 9.0);
        assert_eq!(join(out[1], out[2]), 16_777_218);
        assert_eq!(add_counts(&form, &saved[..2], &[3]), None);
    }

    #[test]
    fn a_recorded_bad_prediction_reads_back() {
        let form = IouForm::for_test(ClassIds::Values, ClassIds::Values, 2);
        let mut counts = vec![0i64; form.device_len()];
        assert_eq!(bad_prediction(&form, &counts), None);
        counts[4..7].copy_from_slice(&[2, i64::from(7.5f32.to_bits()), 3]);
        assert_eq!(
            bad_prediction(&form, &counts),
            Some(BadPrediction {
                value: 7.5,
                index: 3
            })
        );
    }
}
