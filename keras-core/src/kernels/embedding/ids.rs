//! Which table row a float-coded token id reads, the same rule on every device (`embedding.cu`
//! applies it too).

/// The row of `vocab` that the float-coded id `id` names: `Some(id)` for an integer in
/// `0..vocab`, `None` otherwise (negative, fractional, too large, NaN or infinite).
///
/// # Examples
/// ```
/// use keras_core::kernels::embedding::row_of;
///
/// assert_eq!(row_of(3.0, 10), Some(3));
/// assert_eq!(row_of(10.0, 10), None);
/// assert_eq!(row_of(2.5, 10), None);
/// assert_eq!(row_of(-1.0, 10), None);
/// assert_eq!(row_of(f32::NAN, 10), None);
/// ```
#[inline]
pub fn row_of(id: f32, vocab: usize) -> Option<usize> {
    // `f64` holds every `f32` and every vocabulary size below 2^53 exactly.
    let v = f64::from(id);
    (v >= 0.0 && v.fract() == 0.0 && v < vocab as f64).then_some(v as usize)
}

/// The first id in `ids` that names no row of `vocab` ([`row_of`]), with its position.
///
/// # Examples
/// ```
/// use keras_core::kernels::embedding::first_bad_id;
///
/// assert_eq!(first_bad_id(&[0.0, 4.0, 1.0], 5), None);
/// assert_eq!(first_bad_id(&[0.0, 5.0, -1.0], 5), Some((1, 5.0)));
/// ```
pub fn first_bad_id(ids: &[f32], vocab: usize) -> Option<(usize, f32)> {
    ids.iter()
        .position(|&id| row_of(id, vocab).is_none())
        .map(|i| (i, ids[i]))
}

#[cfg(test)]
mod tests {
    use super::row_of;

    #[test]
    fn only_integers_below_the_vocabulary_name_a_row() {
        for (id, want) in [
            (0.0, Some(0)),
            (-0.0, Some(0)),
            (6.0, Some(6)),
            (7.0, None),
            (1e30, None),
            (0.5, None),
            (f32::INFINITY, None),
            (f32::NEG_INFINITY, None),
            (-f32::NAN, None),
        ] {
            assert_eq!(row_of(id, 7), want, "{id}");
        }
        // Above 2^24 every f32 is an integer; the comparison stays exact.
        assert_eq!(row_of(16_777_216.0, 16_777_217), Some(16_777_216));
        assert_eq!(row_of(16_777_216.0, 16_777_216), None);
    }
}
