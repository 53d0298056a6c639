//! A CRC-32C of a whole safetensors file, kept in the file's own header.
//!
//! The writer puts `"crc32c": "00000000"` in the header's `__metadata__` ([`SEAL_KEY`]),
//! serializes, computes the CRC-32C of every byte of the file as it then is and writes the CRC's
//! eight hex digits over the zeros ([`seal`]). The reader finds the one `"crc32c":"…"` of the
//! header, puts the zeros back in a copy of the bytes and compares ([`verify_seal`]). Any
//! changed byte (tensor data, a name, a shape, an offset, the header's length or the CRC itself)
//! makes the two differ, or the header unreadable; a file without a seal is rejected. The file
//! stays a plain safetensors file that other tools read (the CRC is one more metadata string).

use std::collections::HashMap;
use std::path::Path;

use super::crc32c::crc32c;
use crate::{Error, Result};

/// The metadata key of the seal.
pub const SEAL_KEY: &str = "crc32c";

/// The value the seal has while its CRC is computed.
const PLACEHOLDER: &[u8; 8] = b"00000000";

/// Adds the seal's placeholder to `metadata`; call [`seal`] on the serialized bytes.
pub(crate) fn add_placeholder(metadata: &mut HashMap<String, String>) {
    metadata.insert(
        SEAL_KEY.to_string(),
        String::from_utf8_lossy(PLACEHOLDER).into_owned(),
    );
}

/// The range of the seal's eight hex digits in `bytes`, a safetensors file: the header must hold
/// `"crc32c":"` exactly once, followed by eight bytes and a closing quote.
fn seal_range(bytes: &[u8]) -> Result<std::ops::Range<usize>, String> {
    let len_bytes: [u8; 8] = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .ok_or("the file is shorter than a safetensors header")?;
    let header_len = usize::try_from(u64::from_le_bytes(len_bytes))
        .map_err(|_| "the header length does not fit in memory".to_string())?;
    let header = 8usize
        .checked_add(header_len)
        .and_then(|end| bytes.get(8..end))
        .ok_or("the header runs past the end of the file")?;
    let key = format!("\"{SEAL_KEY}\":\"");
    let key = key.as_bytes();
    let mut found = header
        .windows(key.len())
        .enumerate()
        .filter(|(_, w)| *w == key);
    let (at, _) = found
        .next()
        .ok_or("the file has no checksum (it was not written by this version of keras-rs)")?;
    if found.next().is_some() {
        return Err("the header holds two checksums".into());
    }
    let start = 8 + at + key.len();
    match bytes.get(start + 8) {
        Some(b'"') => Ok(start..start + 8),
        _ => Err("the checksum in the header is malformed".into()),
    }
}

/// Writes the CRC-32C of `bytes` (serialized with `add_placeholder`'s metadata) over the
/// placeholder.
pub fn seal(bytes: &mut [u8]) -> Result<(), String> {
    let range = seal_range(bytes)?;
    if &bytes[range.clone()] != PLACEHOLDER {
        return Err("the checksum placeholder was not in the header".into());
    }
    let crc = format!("{:08x}", crc32c(bytes));
    bytes[range].copy_from_slice(crc.as_bytes());
    Ok(())
}

/// Checks the seal [`seal`] wrote: `Err` says why the file cannot be trusted.
pub fn verify_seal(bytes: &[u8]) -> Result<(), String> {
    let range = seal_range(bytes)?;
    let stored = std::str::from_utf8(&bytes[range.clone()])
        .ok()
        .and_then(|hex| u32::from_str_radix(hex, 16).ok())
        .ok_or("the checksum in the header is not hexadecimal")?;
    let mut copy = bytes.to_vec();
    copy[range].copy_from_slice(PLACEHOLDER);
    let actual = crc32c(&copy);
    if actual != stored {
        return Err(format!(
            "checksum mismatch (stored {stored:08x}, computed {actual:08x}): the file was changed or damaged after it was written"
        ));
    }
    Ok(())
}

/// The bytes of the sealed file at `path`, once its seal checks: [`Error::Io`] when it cannot be
/// read, [`Error::Checkpoint`] when the seal does not check.
pub(crate) fn read_sealed(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    verify_seal(&bytes).map_err(|reason| Error::Checkpoint {
        path: path.to_path_buf(),
        reason,
    })?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed() -> Vec<u8> {
        let data: Vec<u8> = [1.0f32, -2.0, 3.5]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![3], &data).unwrap();
        let mut metadata = HashMap::new();
        add_placeholder(&mut metadata);
        let mut bytes = safetensors::tensor::serialize([("w", view)], &Some(metadata)).unwrap();
        seal(&mut bytes).unwrap();
        bytes
    }

    #[test]
    fn a_sealed_file_verifies_and_stays_readable_as_safetensors() {
        let bytes = sealed();
        verify_seal(&bytes).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(file.tensor("w").unwrap().shape(), &[3]);
    }

    #[test]
    fn every_flipped_byte_is_caught() {
        let bytes = sealed();
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            assert!(verify_seal(&bad).is_err(), "a flip of byte {i} passed");
        }
    }

    #[test]
    fn a_file_without_a_seal_or_cut_short_is_rejected() {
        let bytes = sealed();
        assert!(verify_seal(&bytes[..bytes.len() - 1]).is_err());
        assert!(verify_seal(&bytes[..5]).is_err());
        let data = [0u8; 4];
        let view =
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![1], &data).unwrap();
        let plain = safetensors::tensor::serialize([("w", view)], &None).unwrap();
        assert!(verify_seal(&plain).unwrap_err().contains("no checksum"));
    }
}
