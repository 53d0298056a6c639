//! `f32` values as hexadecimal text, bit for bit: how a callback's JSON state carries weights
//! (`EarlyStopping`'s best epoch) without rounding, NaN and signed zeros included.

/// Each value's little-endian bytes, two hexadecimal digits each.
pub(crate) fn floats_to_hex(values: &[f32]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(values.len() * 8);
    for v in values {
        for byte in v.to_le_bytes() {
            // Writing to a String cannot fail.
            let _ = write!(out, "{byte:02x}");
        }
    }
    out
}

/// The values [`floats_to_hex`] wrote; `None` for text that is not such a string.
pub(crate) fn floats_from_hex(text: &str) -> Option<Vec<f32>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(8) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    bytes
        .chunks_exact(8)
        .map(|chunk| {
            let mut le = [0u8; 4];
            for (i, pair) in chunk.chunks_exact(2).enumerate() {
                le[i] = digit(pair[0])? << 4 | digit(pair[1])?;
            }
            Some(f32::from_le_bytes(le))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip_bit_for_bit() {
        let values = [1.5, -0.0, f32::NAN, f32::MIN_POSITIVE, f32::INFINITY, 1e-40];
        let back = floats_from_hex(&floats_to_hex(&values)).unwrap();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&back), bits(&values));
        assert_eq!(floats_to_hex(&[1.0]), "0000803f");
    }

    #[test]
    fn other_text_is_refused() {
        assert_eq!(floats_from_hex("0000803"), None);
        assert_eq!(floats_from_hex("0000803g"), None);
        assert_eq!(floats_from_hex(""), Some(vec![]));
    }
}
