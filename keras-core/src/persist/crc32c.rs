//! CRC-32C (Castagnoli), as TFRecord framing and the files' checksum seal need it: the `crc32c`
//! crate (SSE 4.2 / ARM CRC instructions where the CPU has them, a table elsewhere).

/// The CRC-32C of `data`.
///
/// ```
/// use keras_core::persist::crc32c::crc32c;
///
/// assert_eq!(crc32c(b"123456789"), 0xE306_9283);
/// ```
pub fn crc32c(data: &[u8]) -> u32 {
    ::crc32c::crc32c(data)
}

/// TFRecord's masked CRC: `((crc >> 15) | (crc << 17)) + 0xa282ead8`.
pub fn masked_crc32c(data: &[u8]) -> u32 {
    let crc = crc32c(data);
    crc.rotate_right(15).wrapping_add(0xA282_EAD8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_vectors_match_the_castagnoli_crc() {
        assert_eq!(crc32c(b""), 0);
        assert_eq!(crc32c(&[0u8; 32]), 0x8A91_36AA);
        assert_eq!(crc32c(&[0xFFu8; 32]), 0x62A8_AB43);
        let ascending: Vec<u8> = (0..32).collect();
        assert_eq!(crc32c(&ascending), 0x46DD_794E);
    }

    #[test]
    fn the_mask_rotates_and_adds_the_constant() {
        // crc32c("abc") = 0x364B3FB7; rotated right by 15 plus 0xA282EAD8.
        assert_eq!(crc32c(b"abc"), 0x364B_3FB7);
        assert_eq!(masked_crc32c(b"abc"), 0x21F1_576E);
    }
}
