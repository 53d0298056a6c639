//! TensorBoard event files: TFRecord framing around hand-encoded `Event` protobufs, written and
//! read back.
//!
//! A record is `u64 length (LE) | u32 masked_crc32c(length) | data | u32 masked_crc32c(data)`.
//! `Event` fields used: `wall_time` (1, double), `step` (2, int64), `file_version` (3, string,
//! `"brain.Event:2"` in the first record), `summary` (5); `Summary.value` (1) holds
//! `{tag (1, string), simple_value (2, float)}`.

use std::{
    fs::File,
    io::{BufWriter, Write},
    path::{Path, PathBuf},
    time::{SystemTime, UNIX_EPOCH},
};

use super::crc32c::masked_crc32c;
use crate::{Error, Result};

/// One decoded event.
///
/// ```
/// use keras_core::persist::event_file::{decode_event, encode_event, Event};
///
/// let e = Event { wall_time: 1.5, step: 2, file_version: None, scalars: vec![("epoch_loss".into(), 0.25)] };
/// assert_eq!(decode_event(&encode_event(&e)), Some(e));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Seconds since the Unix epoch.
    pub wall_time: f64,
    /// The step (epoch or batch counter).
    pub step: i64,
    /// `Some("brain.Event:2")` for the first record of a file.
    pub file_version: Option<String>,
    /// `(tag, simple_value)` pairs of the event's summary.
    pub scalars: Vec<(String, f32)>,
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_bytes(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_varint(out, ((field << 3) | 2) as u64);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// Encodes an [`Event`] as protobuf bytes.
pub fn encode_event(event: &Event) -> Vec<u8> {
    let mut out = Vec::new();
    out.push(0x09); // field 1, 64-bit
    out.extend_from_slice(&event.wall_time.to_le_bytes());
    if event.step != 0 {
        out.push(0x10); // field 2, varint
        put_varint(&mut out, event.step as u64);
    }
    if let Some(v) = &event.file_version {
        put_bytes(&mut out, 3, v.as_bytes());
    }
    if !event.scalars.is_empty() {
        let mut summary = Vec::new();
        for (tag, value) in &event.scalars {
            let mut v = Vec::new();
            put_bytes(&mut v, 1, tag.as_bytes());
            v.push(0x15); // field 2, 32-bit
            v.extend_from_slice(&value.to_le_bytes());
            put_bytes(&mut summary, 1, &v);
        }
        put_bytes(&mut out, 5, &summary);
    }
    out
}

/// Frames `data` as one TFRecord.
pub fn frame_record(data: &[u8]) -> Vec<u8> {
    let len = (data.len() as u64).to_le_bytes();
    let mut out = Vec::with_capacity(data.len() + 16);
    out.extend_from_slice(&len);
    out.extend_from_slice(&masked_crc32c(&len).to_le_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(&masked_crc32c(data).to_le_bytes());
    out
}

fn hostname() -> String {
    let from_file = |p: &str| {
        std::fs::read_to_string(p)
            .ok()
            .map(|s| s.trim().to_string())
    };
    from_file("/proc/sys/kernel/hostname")
        .or_else(|| from_file("/etc/hostname"))
        .or_else(|| std::env::var("HOSTNAME").ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', '\\']))
        .unwrap_or_else(|| "localhost".to_string())
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Appends scalar events to `events.out.tfevents.<secs>.<hostname>` in a directory.
///
/// ```
/// use keras_core::persist::event_file::{read_events, EventWriter};
///
/// let dir = std::env::temp_dir().join(format!("doc-events-{}", std::process::id()));
/// let mut w = EventWriter::create(&dir)?;
/// w.add_scalar("epoch_loss", 0.5, 3)?;
/// w.flush()?;
/// let events = read_events(w.path())?;
/// assert_eq!(events[0].file_version.as_deref(), Some("brain.Event:2"));
/// assert_eq!((events[1].step, events[1].scalars.clone()), (3, vec![("epoch_loss".to_string(), 0.5)]));
/// # std::fs::remove_dir_all(&dir).ok();
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug)]
pub struct EventWriter {
    path: PathBuf,
    file: BufWriter<File>,
}

impl EventWriter {
    /// Creates `dir` if needed and a new event file in it, starting with the `file_version`
    /// record. An existing name gets a `.1`, `.2`, ... suffix rather than being overwritten.
    pub fn create(dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let wall_time = now();
        let base = format!("events.out.tfevents.{}.{}", wall_time as u64, hostname());
        let mut path = dir.join(&base);
        let mut n = 0;
        while path.exists() {
            n += 1;
            path = dir.join(format!("{base}.{n}"));
        }
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        let mut writer = Self {
            path,
            file: BufWriter::new(file),
        };
        writer.write_event(&Event {
            wall_time,
            step: 0,
            file_version: Some("brain.Event:2".into()),
            scalars: vec![],
        })?;
        Ok(writer)
    }

    /// The file being written.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends one event.
    pub fn write_event(&mut self, event: &Event) -> Result<()> {
        let record = frame_record(&encode_event(event));
        self.file
            .write_all(&record)
            .map_err(|e| Error::io(&self.path, e))
    }

    /// Appends one scalar at `step`, stamped with the current time.
    pub fn add_scalar(&mut self, tag: &str, value: f32, step: i64) -> Result<()> {
        self.write_event(&Event {
            wall_time: now(),
            step,
            file_version: None,
            scalars: vec![(tag.to_string(), value)],
        })
    }

    /// Flushes buffered records to the file.
    pub fn flush(&mut self) -> Result<()> {
        self.file.flush().map_err(|e| Error::io(&self.path, e))
    }
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = *self.buf.get(self.pos)?;
            self.pos += 1;
            v |= ((b & 0x7F) as u64) << shift;
            if b < 0x80 {
                return Some(v);
            }
        }
        None
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(s)
    }
    fn done(&self) -> bool {
        self.pos >= self.buf.len()
    }
    /// Reads one `(field, wire_type, payload)`; varints come back as their 8 LE bytes.
    fn field(&mut self) -> Option<(u64, u8, Vec<u8>)> {
        let key = self.varint()?;
        let wire = (key & 7) as u8;
        let payload = match wire {
            0 => self.varint()?.to_le_bytes().to_vec(),
            1 => self.take(8)?.to_vec(),
            2 => {
                let n = self.varint()? as usize;
                self.take(n)?.to_vec()
            }
            5 => self.take(4)?.to_vec(),
            _ => return None,
        };
        Some((key >> 3, wire, payload))
    }
}

fn arr<const N: usize>(b: &[u8]) -> Option<[u8; N]> {
    b.get(..N)?.try_into().ok()
}

/// Decodes an `Event` protobuf (unknown fields are skipped).
pub fn decode_event(bytes: &[u8]) -> Option<Event> {
    let mut r = Reader { buf: bytes, pos: 0 };
    let mut event = Event {
        wall_time: 0.0,
        step: 0,
        file_version: None,
        scalars: vec![],
    };
    while !r.done() {
        match r.field()? {
            (1, 1, p) => event.wall_time = f64::from_le_bytes(arr(&p)?),
            (2, 0, p) => event.step = i64::from_le_bytes(arr(&p)?),
            (3, 2, p) => event.file_version = Some(String::from_utf8(p).ok()?),
            (5, 2, summary) => {
                let mut s = Reader {
                    buf: &summary,
                    pos: 0,
                };
                while !s.done() {
                    if let (1, 2, value) = s.field()? {
                        let mut v = Reader {
                            buf: &value,
                            pos: 0,
                        };
                        let (mut tag, mut simple) = (String::new(), None);
                        while !v.done() {
                            match v.field()? {
                                (1, 2, t) => tag = String::from_utf8(t).ok()?,
                                (2, 5, f) => simple = Some(f32::from_le_bytes(arr(&f)?)),
                                _ => {}
                            }
                        }
                        if let Some(x) = simple {
                            event.scalars.push((tag, x));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    Some(event)
}

/// Reads every event of a file, checking both CRCs of every record.
pub fn read_events(path: &Path) -> Result<Vec<Event>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let bad = |reason: String| Error::Checkpoint {
        path: path.to_path_buf(),
        reason,
    };
    let mut events = Vec::new();
    let mut pos = 0;
    while pos < bytes.len() {
        let header = bytes
            .get(pos..pos + 12)
            .ok_or_else(|| bad(format!("truncated record header at byte {pos}")))?;
        let len_bytes = &header[..8];
        let len = u64::from_le_bytes(arr(len_bytes).unwrap_or_default()) as usize;
        if masked_crc32c(len_bytes).to_le_bytes() != header[8..12] {
            return Err(bad(format!("bad length CRC at byte {pos}")));
        }
        let data = bytes
            .get(pos + 12..pos + 12 + len)
            .ok_or_else(|| bad(format!("truncated record at byte {pos}")))?;
        let crc = bytes
            .get(pos + 12 + len..pos + 16 + len)
            .ok_or_else(|| bad(format!("truncated record CRC at byte {pos}")))?;
        if masked_crc32c(data).to_le_bytes() != crc {
            return Err(bad(format!("bad data CRC at byte {pos}")));
        }
        events
            .push(decode_event(data).ok_or_else(|| bad(format!("malformed Event at byte {pos}")))?);
        pos += 16 + len;
    }
    Ok(events)
}

/// The event files (`*tfevents*`) of a directory, sorted by name.
pub fn event_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.contains("tfevents"))
        })
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_round_trips_through_its_encoding() {
        let e = Event {
            wall_time: 1234.5,
            step: 300,
            file_version: None,
            scalars: vec![("epoch_loss".into(), 0.25), ("epoch_accuracy".into(), -1.5)],
        };
        assert_eq!(decode_event(&encode_event(&e)), Some(e));
    }

    #[test]
    fn the_encoding_matches_the_protobuf_wire_format() {
        let e = Event {
            wall_time: 0.0,
            step: 1,
            file_version: None,
            scalars: vec![("a".into(), 1.0)],
        };
        assert_eq!(
            encode_event(&e),
            [
                0x09, 0, 0, 0, 0, 0, 0, 0, 0, // wall_time
                0x10, 1, // step
                0x2a, 10, 0x0a, 8, 0x0a, 1, b'a', 0x15, 0, 0, 0x80,
                0x3f, // summary { value { tag simple_value } }
            ]
        );
    }

    #[test]
    fn a_corrupted_record_is_detected() {
        let dir = std::env::temp_dir().join(format!("keras-events-corrupt-{}", std::process::id()));
        let mut w = EventWriter::create(&dir).unwrap();
        w.add_scalar("x", 1.0, 1).unwrap();
        w.flush().unwrap();
        let mut bytes = std::fs::read(w.path()).unwrap();
        let last = bytes.len() - 5;
        bytes[last] ^= 0xFF;
        std::fs::write(w.path(), &bytes).unwrap();
        assert!(read_events(w.path()).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
