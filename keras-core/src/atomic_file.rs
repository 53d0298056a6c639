//! Atomic file replacement: every file the project writes goes through here, so that a crash
//! or a failed write at any moment leaves either the previous file or the whole new one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// `<path>.tmp`, beside `path`: where `write_atomically` stages the bytes.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Writes `bytes` to `path` atomically through [`temp_path`]; missing parent directories are
/// created.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    write_atomically_via(path, &temp_path(path), bytes)
}

/// Writes `bytes` to `path` atomically: to `tmp` (in the same directory), fsynced, renamed over
/// `path`, then the directory fsynced. On failure `tmp` is removed and `path` is untouched.
pub(crate) fn write_atomically_via(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<()> {
    let result = (|| -> Result<()> {
        let mut file = std::fs::File::create(tmp).map_err(|e| Error::io(tmp, e))?;
        file.write_all(bytes).map_err(|e| Error::io(tmp, e))?;
        file.sync_all().map_err(|e| Error::io(tmp, e))?;
        std::fs::rename(tmp, path).map_err(|e| Error::io(path, e))
    })();
    if result.is_err() && tmp.is_file() {
        let _ = std::fs::remove_file(tmp);
    }
    result?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Persist the rename; not every platform can open a directory, so best effort.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// [`write_atomically_via`], with an I/O error reported on `path` itself (where the caller asked
/// to write) rather than on the temporary file.
pub(crate) fn write_atomically_as(path: &Path, tmp: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically_via(path, tmp, bytes).map_err(|e| match e {
        Error::Io { source, .. } => Error::io(path, source),
        other => other,
    })
}
