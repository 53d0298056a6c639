//! gzip files (RFC 1952), for `.csv.gz` data sets such as scikit-learn's digits.

use super::crc32::crc32;
use super::inflate::{inflate, InflateResult};

const MAGIC: [u8; 2] = [0x1f, 0x8b];
const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

/// Whether `bytes` start with the gzip magic number.
pub(crate) fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&MAGIC)
}

/// Deflate's largest expansion: 258 bytes out of a 2-bit code in the best case, about 1032 to 1.
const MAX_RATIO: usize = 1032;

/// Decompresses a gzip file of one or more members (as `gzip -d`, `zcat` and pandas read
/// them: the members' outputs one after the other), checking each member's CRC-32 and size
/// trailer.
///
/// What a member may inflate to is bounded by deflate's largest ratio over the bytes left in
/// the file (so a hostile file cannot exhaust memory beyond about 1000 times its size), and by
/// 4 GiB (the trailer holds the size modulo 2^32).
pub(crate) fn gunzip(bytes: &[u8]) -> InflateResult<Vec<u8>> {
    if bytes.len() < 18 || !is_gzip(bytes) {
        return Err("not a gzip file (too short or no magic number)".to_string());
    }
    let mut out = Vec::new();
    let mut pos = 0;
    let mut member = 0;
    while pos < bytes.len() {
        member += 1;
        let used = gunzip_member(&bytes[pos..], &mut out).map_err(|e| {
            if member == 1 {
                e
            } else {
                format!("member {member}: {e}")
            }
        })?;
        pos += used;
    }
    Ok(out)
}

/// Decompresses the gzip member at the start of `bytes` onto `out`; returns its length in bytes.
fn gunzip_member(bytes: &[u8], out: &mut Vec<u8>) -> InflateResult<usize> {
    if bytes.len() < 18 || !is_gzip(bytes) {
        return Err("data after a gzip member that is not another gzip member".to_string());
    }
    if bytes[2] != 8 {
        return Err(format!(
            "unsupported compression method {} (only deflate, 8)",
            bytes[2]
        ));
    }
    let flags = bytes[3];
    if flags & 0xe0 != 0 {
        return Err(format!("reserved header flags set ({flags:#04x})"));
    }
    let mut pos = 10usize;
    if flags & FEXTRA != 0 {
        let len = bytes.get(pos..pos + 2).ok_or("header ends early")?;
        pos += 2 + usize::from(u16::from_le_bytes([len[0], len[1]]));
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            let rest = bytes.get(pos..).ok_or("header ends early")?;
            pos += 1 + rest
                .iter()
                .position(|&b| b == 0)
                .ok_or("header ends early")?;
        }
    }
    if flags & FHCRC != 0 {
        pos += 2;
    }
    let body = bytes.get(pos..).ok_or("header ends early")?;
    let limit = body.len().saturating_mul(MAX_RATIO).min(u32::MAX as usize);
    let (data, used) = inflate(body, limit)?;
    let trailer = pos + used;
    if read_u32(bytes, trailer)? != crc32(&data) {
        return Err("CRC-32 mismatch: the file is corrupt".to_string());
    }
    if read_u32(bytes, trailer + 4)? != data.len() as u32 {
        return Err("size trailer does not match the data".to_string());
    }
    out.extend_from_slice(&data);
    Ok(trailer + 8)
}

fn read_u32(bytes: &[u8], at: usize) -> InflateResult<u32> {
    let b = bytes
        .get(at..at.saturating_add(4))
        .ok_or("trailer ends early")?;
    Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
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
        assert_eq!(gunzip(&SMALL).unwrap(), b"1,2\n3,4\n");
    }

    #[test]
    fn members_one_after_the_other_decompress_one_after_the_other() {
        let two = [SMALL, SMALL].concat();
        assert_eq!(gunzip(&two).unwrap(), b"1,2\n3,4\n1,2\n3,4\n");
        let mut bad = two.clone();
        bad[SMALL.len() + 12] ^= 0x40;
        assert!(gunzip(&bad).unwrap_err().starts_with("member 2: "));
        let mut junk = SMALL.to_vec();
        junk.extend_from_slice(b"trailing junk that is not gzip");
        assert!(gunzip(&junk)
            .unwrap_err()
            .contains("not another gzip member"));
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
}
