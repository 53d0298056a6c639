//! The `.keras` container: a zip of `metadata.json`, `config.json` and `model.weights.h5`
//! (Keras writes them stored, uncompressed; both are read).

use std::io::{Cursor, Read, Write};

use zip::write::SimpleFileOptions;

/// The members of a `.keras` file this crate reads and writes.
#[derive(Debug, Clone, Default)]
pub struct KerasArchive {
    /// `metadata.json`.
    pub metadata: serde_json::Value,
    /// `config.json`.
    pub config: serde_json::Value,
    /// `model.weights.h5`'s bytes.
    pub weights: Vec<u8>,
}

/// Members larger than this are refused (a zip bomb, not a model).
const MAX_MEMBER: u64 = 1 << 36;

impl KerasArchive {
    /// Reads a `.keras` file's bytes. `Err` is a reason in words.
    pub fn from_bytes(bytes: &[u8]) -> std::result::Result<Self, String> {
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|e| format!("not a .keras (zip) file: {e}"))?;
        let mut read = |name: &str| -> std::result::Result<Vec<u8>, String> {
            let member = zip
                .by_name(name)
                .map_err(|e| format!("member `{name}`: {e}"))?;
            if member.size() > MAX_MEMBER.min(bytes.len() as u64 * 1024 + (1 << 20)) {
                return Err(format!("member `{name}` claims {} bytes", member.size()));
            }
            let mut out = Vec::with_capacity(member.size() as usize);
            member
                .take(MAX_MEMBER)
                .read_to_end(&mut out)
                .map_err(|e| format!("member `{name}`: {e}"))?;
            Ok(out)
        };
        let json = |name: &str, bytes: Vec<u8>| {
            serde_json::from_slice(&bytes).map_err(|e| format!("member `{name}` is not JSON: {e}"))
        };
        let metadata = json("metadata.json", read("metadata.json")?)?;
        let config = json("config.json", read("config.json")?)?;
        let weights = read("model.weights.h5")?;
        Ok(Self {
            metadata,
            config,
            weights,
        })
    }

    /// The file's bytes.
    pub fn to_bytes(&self) -> std::result::Result<Vec<u8>, String> {
        let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
        for (name, bytes) in [
            (
                "metadata.json",
                serde_json::to_vec(&self.metadata).map_err(zip_error)?,
            ),
            (
                "config.json",
                serde_json::to_vec(&self.config).map_err(zip_error)?,
            ),
            ("model.weights.h5", self.weights.clone()),
        ] {
            zip.start_file(name, options).map_err(zip_error)?;
            zip.write_all(&bytes).map_err(zip_error)?;
        }
        Ok(zip.finish().map_err(zip_error)?.into_inner())
    }
}

fn zip_error(e: impl std::fmt::Display) -> String {
    format!("cannot write the zip: {e}")
}
