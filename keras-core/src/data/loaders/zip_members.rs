//! The members of a zip archive (zip64 included), as `.npz` reading needs them: the `zip`
//! crate, with each member's size, CRC-32 and place in the file checked and every failure a
//! reason in words (never a panic, never an allocation the file's size does not back).
//!
//! Members are located through the central directory, as Python's `zipfile` does; when two
//! members share a name, the later one is read (as `zipfile`, and so `np.load`, do).

use std::io::{Cursor, ErrorKind, Read};

use zip::result::ZipError;
use zip::{CompressionMethod, ZipArchive};

/// A zip archive held in memory.
pub(crate) struct ZipMembers<'a> {
    archive: ZipArchive<Cursor<&'a [u8]>>,
}

impl<'a> ZipMembers<'a> {
    /// Opens the archive: its central directory, and every member's local header, which must
    /// lie with its data inside the file without sharing bytes with another member's (members
    /// that share bytes would let a small file expand without bound, a "zip bomb").
    pub(crate) fn open(bytes: &'a [u8]) -> Result<Self, String> {
        let mut archive = ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| format!("not a zip archive, or a corrupt one: {}", reason(e)))?;
        let mut spans = Vec::with_capacity(archive.len());
        for index in 0..archive.len() {
            let span = match archive.by_index_raw(index) {
                Ok(member) => member
                    .data_start()
                    .checked_add(member.compressed_size())
                    .filter(|&end| end <= bytes.len() as u64)
                    .map(|end| (member.header_start(), end))
                    .ok_or_else(|| "data ends early (truncated archive)".to_string()),
                Err(e) => Err(reason(e)),
            };
            spans.push(span.map_err(|why| in_member(&archive, index, why))?);
        }
        spans.sort_unstable();
        if spans.windows(2).any(|w| w[1].0 < w[0].1) {
            return Err("overlapping entries (corrupt archive)".to_string());
        }
        Ok(Self { archive })
    }

    /// The number of members (a name the archive holds twice counts once).
    pub(crate) fn len(&self) -> usize {
        self.archive.len()
    }

    /// The name of member `index`, in archive order.
    pub(crate) fn name(&self, index: usize) -> &str {
        self.archive.name_for_index(index).unwrap_or_default()
    }

    /// The uncompressed bytes of member `index` (stored or deflate), checked against the size
    /// and the CRC-32 the central directory declares.
    pub(crate) fn read(&mut self, index: usize) -> Result<Vec<u8>, String> {
        let method = self
            .archive
            .by_index_raw(index)
            .map_err(reason)?
            .compression();
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated
        ) {
            return Err(format!(
                "unsupported compression method {method} (stored and deflate are supported)"
            ));
        }
        let member = self.archive.by_index(index).map_err(reason)?;
        let size = member.size();
        // Stored data is as long as declared and deflate grows it by at most about 1032 to 1:
        // reserve no more than a small multiple of the bytes actually there.
        let capacity = size.min(member.compressed_size().saturating_mul(4));
        let mut out = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
        // One byte past the declared size shows a member that decompresses to more; reading
        // to the end of the data is what makes the `zip` crate check the CRC-32.
        member
            .take(size.saturating_add(1))
            .read_to_end(&mut out)
            .map_err(|e| match e.kind() {
                // The `zip` crate's error for a CRC-32 that does not match the data.
                ErrorKind::InvalidData if e.to_string() == "Invalid checksum" => {
                    "CRC-32 mismatch: the archive is corrupt".to_string()
                }
                ErrorKind::UnexpectedEof => "data ends early (truncated archive)".to_string(),
                _ => format!("corrupt compressed data: {e}"),
            })?;
        if out.len() as u64 != size {
            return Err(format!(
                "decompressed to {} bytes but the archive declares {size}",
                out.len()
            ));
        }
        Ok(out)
    }
}

/// `reason` prefixed with the name of member `index`.
fn in_member(archive: &ZipArchive<Cursor<&[u8]>>, index: usize, reason: String) -> String {
    let name = archive.name_for_index(index).unwrap_or_default();
    format!("entry `{name}`: {reason}")
}

/// A `zip` crate error in words.
fn reason(error: ZipError) -> String {
    match error {
        ZipError::Io(e) if e.kind() == ErrorKind::UnexpectedEof => {
            "archive ends early (truncated archive)".to_string()
        }
        ZipError::Io(e) => e.to_string(),
        ZipError::InvalidArchive(why) => format!("corrupt archive ({why})"),
        ZipError::UnsupportedArchive(why) => format!("unsupported archive ({why})"),
        ZipError::InvalidPassword => "the entry is encrypted".to_string(),
        other => other.to_string(),
    }
}
