//! A read-only zip archive reader (central directory, zip64 included), enough for `.npz` files.
//!
//! Entries are located through the central directory, as `zipfile` does; sizes come from it
//! (or from its zip64 extra field), never from the local headers, which `np.savez` writes
//! with placeholder sizes.

/// One member of the archive, still compressed.
pub(crate) struct ZipEntry<'a> {
    /// The member's file name.
    pub name: String,
    /// 0 = stored, 8 = deflate.
    pub method: u16,
    /// CRC-32 of the uncompressed data.
    pub crc32: u32,
    /// Uncompressed size in bytes.
    pub size: u64,
    /// The compressed bytes.
    pub data: &'a [u8],
}

const EOCD: u32 = 0x0605_4b50;
const ZIP64_EOCD: u32 = 0x0606_4b50;
const ZIP64_LOCATOR: u32 = 0x0706_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const LOCAL: u32 = 0x0403_4b50;

type ZipResult<T> = std::result::Result<T, String>;

fn u16_at(b: &[u8], at: usize) -> ZipResult<u16> {
    let s = b
        .get(at..at.saturating_add(2))
        .ok_or("archive ends early")?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> ZipResult<u32> {
    let s = b
        .get(at..at.saturating_add(4))
        .ok_or("archive ends early")?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> ZipResult<u64> {
    Ok(u64::from(u32_at(b, at)?) | (u64::from(u32_at(b, at.saturating_add(4))?) << 32))
}

fn to_usize(v: u64) -> ZipResult<usize> {
    usize::try_from(v).map_err(|_| "offset too large for this platform".to_string())
}

/// Lists the archive's members in central-directory order.
pub(crate) fn read_entries(bytes: &[u8]) -> ZipResult<Vec<ZipEntry<'_>>> {
    let (count, mut pos) = central_directory(bytes)?;
    let mut entries = Vec::new();
    let mut spans = Vec::new();
    for _ in 0..count {
        if u32_at(bytes, pos)? != CENTRAL {
            return Err(format!("corrupt central directory at byte {pos}"));
        }
        let flags = u16_at(bytes, pos + 8)?;
        let method = u16_at(bytes, pos + 10)?;
        let crc32 = u32_at(bytes, pos + 16)?;
        let mut compressed = u64::from(u32_at(bytes, pos + 20)?);
        let mut size = u64::from(u32_at(bytes, pos + 24)?);
        let name_len = usize::from(u16_at(bytes, pos + 28)?);
        let extra_len = usize::from(u16_at(bytes, pos + 30)?);
        let comment_len = usize::from(u16_at(bytes, pos + 32)?);
        let mut offset = u64::from(u32_at(bytes, pos + 42)?);
        let name_at = pos + 46;
        let name = bytes
            .get(name_at..name_at + name_len)
            .ok_or("archive ends early")?;
        let name = String::from_utf8_lossy(name).into_owned();
        let extra = bytes
            .get(name_at + name_len..name_at + name_len + extra_len)
            .ok_or("archive ends early")?;
        // zip64: the 64-bit values follow in this order, each only if its 32-bit field is all ones.
        let mut field = zip64_field(extra);
        for value in [&mut size, &mut compressed, &mut offset] {
            if *value == u64::from(u32::MAX) {
                *value = field
                    .next()
                    .ok_or_else(|| format!("entry `{name}`: missing zip64 field"))?;
            }
        }
        if flags & 1 != 0 {
            return Err(format!("entry `{name}` is encrypted"));
        }
        let offset = to_usize(offset)?;
        let span = data_span(bytes, offset, to_usize(compressed)?)
            .map_err(|reason| format!("entry `{name}`: {reason}"))?;
        let data = bytes.get(span.clone()).ok_or("archive ends early")?;
        spans.push((offset, span.end));
        entries.push(ZipEntry {
            name,
            method,
            crc32,
            size,
            data,
        });
        pos = name_at + name_len + extra_len + comment_len;
    }
    // Members that share bytes would let a small file expand without bound (a "zip bomb").
    spans.sort_unstable();
    if spans.windows(2).any(|w| w[1].0 < w[0].1) {
        return Err("overlapping entries (corrupt archive)".to_string());
    }
    Ok(entries)
}

/// The number of entries and the central directory's offset, from the end record.
fn central_directory(bytes: &[u8]) -> ZipResult<(u64, usize)> {
    let lowest = bytes.len().saturating_sub(22 + usize::from(u16::MAX));
    let eocd = (lowest..=bytes.len().saturating_sub(22))
        .rev()
        .find(|&at| u32_at(bytes, at) == Ok(EOCD))
        .ok_or("not a zip archive (no end of central directory record)")?;
    let count = u16_at(bytes, eocd + 10)?;
    let offset = u32_at(bytes, eocd + 16)?;
    if count != u16::MAX && offset != u32::MAX {
        return Ok((u64::from(count), offset as usize));
    }
    let locator = eocd.checked_sub(20).ok_or("zip64 locator missing")?;
    if u32_at(bytes, locator)? != ZIP64_LOCATOR {
        return Err("zip64 locator missing".to_string());
    }
    let record = to_usize(u64_at(bytes, locator + 8)?)?;
    if u32_at(bytes, record)? != ZIP64_EOCD {
        return Err("corrupt zip64 end of central directory record".to_string());
    }
    let count = u64_at(bytes, record.saturating_add(32))?;
    let offset = to_usize(u64_at(bytes, record.saturating_add(48))?)?;
    Ok((count, offset))
}

/// The 64-bit values of the zip64 extra field (id 1), in order.
fn zip64_field(extra: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let mut rest = extra;
    let mut body: &[u8] = &[];
    while rest.len() >= 4 {
        let id = u16::from_le_bytes([rest[0], rest[1]]);
        let len = usize::from(u16::from_le_bytes([rest[2], rest[3]]));
        if id == 1 {
            body = rest.get(4..4 + len).unwrap_or_default();
            break;
        }
        rest = rest.get(4 + len..).unwrap_or_default();
    }
    body.chunks_exact(8)
        .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
}

/// Where the `len` compressed bytes of the entry whose local header is at `offset` lie.
fn data_span(bytes: &[u8], offset: usize, len: usize) -> ZipResult<std::ops::Range<usize>> {
    if u32_at(bytes, offset)? != LOCAL {
        return Err(format!("no local file header at byte {offset}"));
    }
    let name_len = usize::from(u16_at(bytes, offset + 26)?);
    let extra_len = usize::from(u16_at(bytes, offset + 28)?);
    let start = offset + 30 + name_len + extra_len;
    match start.checked_add(len) {
        Some(end) if end <= bytes.len() => Ok(start..end),
        _ => Err("data ends early (truncated archive)".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::loaders::crc32::crc32;

    /// A stored zip of `entries`; `zip64` moves the sizes, offsets and counts into zip64
    /// fields and records, as writers do for archives past 4 GiB.
    fn build(entries: &[(&str, &[u8])], zip64: bool) -> Vec<u8> {
        let (mut out, mut central) = (Vec::new(), Vec::new());
        for (name, data) in entries {
            let offset = out.len() as u64;
            out.extend_from_slice(&LOCAL.to_le_bytes());
            out.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            out.extend_from_slice(&crc32(data).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(data.len() as u32).to_le_bytes());
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            let (size, off) = if zip64 {
                (u32::MAX, u32::MAX)
            } else {
                (data.len() as u32, offset as u32)
            };
            central.extend_from_slice(&CENTRAL.to_le_bytes());
            central.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            central.extend_from_slice(&crc32(data).to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&size.to_le_bytes());
            central.extend_from_slice(&(name.len() as u16).to_le_bytes());
            central.extend_from_slice(&(if zip64 { 28u16 } else { 0 }).to_le_bytes());
            central.extend_from_slice(&[0; 10]);
            central.extend_from_slice(&off.to_le_bytes());
            central.extend_from_slice(name.as_bytes());
            if zip64 {
                central.extend_from_slice(&[1, 0, 24, 0]);
                for v in [data.len() as u64, data.len() as u64, offset] {
                    central.extend_from_slice(&v.to_le_bytes());
                }
            }
        }
        let cd_offset = out.len() as u64;
        out.extend_from_slice(&central);
        let (count, off) = if zip64 {
            (u16::MAX, u32::MAX)
        } else {
            (entries.len() as u16, cd_offset as u32)
        };
        if zip64 {
            let record = out.len() as u64;
            out.extend_from_slice(&ZIP64_EOCD.to_le_bytes());
            out.extend_from_slice(&44u64.to_le_bytes());
            out.extend_from_slice(&[45, 0, 45, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
            for v in [
                entries.len() as u64,
                entries.len() as u64,
                central.len() as u64,
                cd_offset,
            ] {
                out.extend_from_slice(&v.to_le_bytes());
            }
            out.extend_from_slice(&ZIP64_LOCATOR.to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&record.to_le_bytes());
            out.extend_from_slice(&1u32.to_le_bytes());
        }
        out.extend_from_slice(&EOCD.to_le_bytes());
        out.extend_from_slice(&[0; 4]);
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        out.extend_from_slice(&(central.len() as u32).to_le_bytes());
        out.extend_from_slice(&off.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    fn names_and_data(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
        let entries = read_entries(bytes).unwrap();
        entries
            .into_iter()
            .map(|e| (e.name, e.data.to_vec()))
            .collect()
    }

    #[test]
    fn plain_and_zip64_archives_list_the_same_entries() {
        let entries: [(&str, &[u8]); 2] = [("a.npy", b"hello"), ("b.npy", b"")];
        let expected = vec![
            ("a.npy".to_string(), b"hello".to_vec()),
            ("b.npy".to_string(), vec![]),
        ];
        assert_eq!(names_and_data(&build(&entries, false)), expected);
        assert_eq!(names_and_data(&build(&entries, true)), expected);
    }

    #[test]
    fn entries_that_share_bytes_are_rejected() {
        let mut bytes = build(&[("a.npy", b"xy"), ("b.npy", b"zw")], false);
        let second_offset = bytes.len() - 22 - 4 - 5; // the last central header's offset field
        bytes[second_offset..second_offset + 4].copy_from_slice(&0u32.to_le_bytes());
        assert_eq!(
            read_entries(&bytes).err().unwrap(),
            "overlapping entries (corrupt archive)"
        );
    }

    #[test]
    fn a_file_without_an_end_record_is_not_a_zip() {
        assert!(read_entries(b"")
            .err()
            .unwrap()
            .starts_with("not a zip archive"));
        let bytes = build(&[("a.npy", b"data")], true);
        for cut in 0..bytes.len() {
            assert!(read_entries(&bytes[..cut]).is_err(), "{cut}");
        }
    }
}
