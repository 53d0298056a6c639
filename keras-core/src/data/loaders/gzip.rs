//! gzip files (RFC 1952), for `.csv.gz` data sets such as scikit-learn's digits: the `flate2`
//! crate's decoder.

use std::io::{ErrorKind, Read};

use flate2::read::MultiGzDecoder;

/// Whether `bytes` start with the gzip magic number.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Decompresses a gzip file of one or more members (as `gzip -d`, `zcat` and pandas read
/// them: the members' outputs one after the other), checking each member's CRC-32 and size
/// trailer.
///
/// Deflate expands at most about 1032 to 1, so the output stays within about 1000 times the
/// file's size. The error is the reason, in words.
pub(crate) fn gunzip(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    MultiGzDecoder::new(bytes)
        .read_to_end(&mut out)
        .map_err(|e| match e.kind() {
            ErrorKind::UnexpectedEof => "the file ends early (truncated gzip data)".to_string(),
            _ => e.to_string(),
        })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    // gzip.compress(b"1,2\n3,4\n", mtime=0) from Python.
    const SMALL: [u8; 28] = [
        0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0x33, 0xd4, 0x31, 0xe2, 0x32,
        0xd6, 0x31, 0xe1, 0x02, 0x00, 0x47, 0x93, 0x6c, 0xaf, 0x08, 0x00, 0x00, 0x00,
    ];

    #[test]
    fn a_python_gzip_member_decompresses() {
        assert!(is_gzip(&SMALL));
        assert_eq!(gunzip(&SMALL).unwrap(), b"1,2\n3,4\n");
    }

    #[test]
    fn members_one_after_the_other_decompress_one_after_the_other() {
        let two = [SMALL, SMALL].concat();
        assert_eq!(gunzip(&two).unwrap(), b"1,2\n3,4\n1,2\n3,4\n");
        let mut bad = two.clone();
        bad[SMALL.len() + 12] ^= 0x40;
        assert!(gunzip(&bad).is_err());
        let mut junk = SMALL.to_vec();
        junk.extend_from_slice(b"trailing junk that is not gzip");
        assert_eq!(gunzip(&junk).unwrap_err(), "invalid gzip header");
    }

    #[test]
    fn a_flipped_byte_fails_the_checks_without_panicking() {
        // Bytes 4..10 (time, extra flags, OS) are informational; bit 5 of byte 19, the
        // stream's last byte, is padding after the end-of-block code.
        for i in (0..4).chain(10..19).chain(20..SMALL.len()) {
            let mut bytes = SMALL;
            bytes[i] ^= 0x20;
            assert!(gunzip(&bytes).is_err(), "byte {i}");
        }
    }

    #[test]
    fn a_truncated_file_is_an_error() {
        for cut in 0..SMALL.len() {
            let reason = gunzip(&SMALL[..cut]).unwrap_err();
            assert!(reason.contains("truncated"), "{cut}: {reason}");
        }
    }
}
