//! NumPy `.npz` archives (`np.savez`, `np.savez_compressed`): named `.npy` arrays in a zip file.

use std::path::Path;

use super::npy::{npy_error, parse_npy, NpyArray};
use super::zip_members::ZipMembers;
use crate::{Error, Result};

/// The arrays of an `.npz` archive, by name (the member name without `.npy`), in archive order.
///
/// Both stored (`np.savez`) and deflate-compressed (`np.savez_compressed`) members are read;
/// each member's CRC-32 and size are checked. A name the archive holds twice is read from its
/// later member, as `np.load` does.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::load_npz;
///
/// // `np.savez("mnist_tiny.npz", x_train=..., y_train=...)`
/// let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/mnist_tiny.npz");
/// let mut npz = load_npz(path)?;
/// assert_eq!(npz.names().collect::<Vec<_>>(), ["x_train", "y_train"]);
/// assert_eq!(npz.array("x_train")?.shape, [3, 2, 2]);
/// let y = npz.take("y_train")?;
/// assert_eq!(y.data, [5.0, 0.0, 4.0]);
/// assert!(npz.array("y_train").is_err());
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Npz {
    entries: Vec<(String, NpyArray)>,
    /// Members that are not `.npy` files (kept by name only, as NumPy's `np.load` opens such
    /// archives and fails only when one of them is read as an array).
    others: Vec<String>,
}

impl Npz {
    /// Parses the bytes of an `.npz` file (errors name the path `<bytes>`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        parse_npz(bytes, Path::new("<bytes>"))
    }

    /// The array names, in archive order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(name, _)| name.as_str())
    }

    /// The array called `name`, if any.
    pub fn get(&self, name: &str) -> Option<&NpyArray> {
        self.entries.iter().find(|(n, _)| n == name).map(|(_, a)| a)
    }

    /// The array called `name`, or [`Error::InvalidArgument`] listing the names there are.
    pub fn array(&self, name: &str) -> Result<&NpyArray> {
        self.get(name).ok_or_else(|| self.missing(name))
    }

    /// Moves the array called `name` out of the archive.
    pub fn take(&mut self, name: &str) -> Result<NpyArray> {
        match self.entries.iter().position(|(n, _)| n == name) {
            Some(i) => Ok(self.entries.remove(i).1),
            None => Err(self.missing(name)),
        }
    }

    /// The names of the members that are not `.npy` files (not read), in archive order.
    pub fn other_members(&self) -> impl Iterator<Item = &str> {
        self.others.iter().map(String::as_str)
    }

    /// The number of arrays.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the archive holds no array.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// All `(name, array)` pairs, in archive order.
    pub fn into_entries(self) -> Vec<(String, NpyArray)> {
        self.entries
    }

    fn missing(&self, name: &str) -> Error {
        let names: Vec<&str> = self.names().collect();
        if self.others.iter().any(|o| o == name) {
            return Error::invalid(
                "name",
                format!("member `{name}` of the archive is not a .npy array"),
            );
        }
        Error::invalid(
            "name",
            format!(
                "no array `{name}` in the archive; it holds: {}",
                names.join(", ")
            ),
        )
    }
}

/// Reads an `.npz` archive.
///
/// Errors: [`Error::Io`] naming the path; [`Error::Npy`] for a file that is not a zip archive,
/// a corrupt or truncated member (the reason names it), or
/// any `.npy` error of [`load_npy`](super::load_npy).
pub fn load_npz(path: impl AsRef<Path>) -> Result<Npz> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_npz(&bytes, path)
}

fn parse_npz(bytes: &[u8], path: &Path) -> Result<Npz> {
    let mut members = ZipMembers::open(bytes).map_err(|reason| npy_error(path, reason))?;
    let mut entries: Vec<(String, NpyArray)> = Vec::new();
    let mut others = Vec::new();
    for index in 0..members.len() {
        let member = members.name(index).to_string();
        if member.ends_with('/') {
            continue;
        }
        let in_member = |reason: String| npy_error(path, format!("entry `{member}`: {reason}"));
        let Some(name) = member.strip_suffix(".npy") else {
            others.push(member.clone());
            continue;
        };
        let array = members
            .read(index)
            .and_then(|bytes| parse_npy(&bytes))
            .map_err(in_member)?;
        entries.push((name.to_string(), array));
    }
    Ok(Npz { entries, others })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MNIST_TINY: &[u8] = include_bytes!("../../../tests/data/mnist_tiny.npz");

    fn reason(bytes: &[u8]) -> String {
        match Npz::from_bytes(bytes) {
            Err(Error::Npy { reason, .. }) => reason,
            other => panic!("expected an .npz error, got {other:?}"),
        }
    }

    /// Renames every occurrence (local and central headers) of a member name.
    fn rename(bytes: &[u8], from: &str, to: &str) -> Vec<u8> {
        assert_eq!(from.len(), to.len());
        let mut out = bytes.to_vec();
        for at in 0..out.len() - from.len() {
            if &out[at..at + from.len()] == from.as_bytes() {
                out[at..at + to.len()].copy_from_slice(to.as_bytes());
            }
        }
        out
    }

    #[test]
    fn a_duplicate_name_reads_the_later_member_as_np_load_does() {
        let bytes = rename(MNIST_TINY, "y_train.npy", "x_train.npy");
        let npz = Npz::from_bytes(&bytes).unwrap();
        assert_eq!(npz.names().collect::<Vec<_>>(), ["x_train"]);
        assert_eq!(npz.array("x_train").unwrap().data, [5.0, 0.0, 4.0]);
    }

    #[test]
    fn a_bad_npy_member_is_named_with_its_reason() {
        let member = ZipMembers::open(MNIST_TINY).unwrap().read(0).unwrap();
        let old_crc = crc32fast::hash(&member).to_le_bytes();
        let new_crc = crc32fast::hash(&rename(&member, "'|u1'", "'<f2'")).to_le_bytes();
        let mut bytes = rename(MNIST_TINY, "'|u1'", "'<f2'");
        for at in 0..bytes.len() - 4 {
            if bytes[at..at + 4] == old_crc {
                bytes[at..at + 4].copy_from_slice(&new_crc);
            }
        }
        let reason = reason(&bytes);
        assert!(
            reason.starts_with("entry `x_train.npy`: unsupported dtype '<f2'"),
            "{reason}"
        );
        assert_eq!(reason.matches("'<f2'").count(), 1);
    }

    #[test]
    fn a_crc_mismatch_is_reported() {
        let bytes = rename(MNIST_TINY, "'|u1'", "'<f2'");
        let reason = reason(&bytes);
        assert_eq!(
            reason,
            "entry `x_train.npy`: CRC-32 mismatch: the archive is corrupt"
        );
    }

    #[test]
    fn into_entries_keeps_archive_order() {
        let npz = Npz::from_bytes(MNIST_TINY).unwrap();
        assert_eq!((npz.len(), npz.is_empty()), (2, false));
        let names: Vec<String> = npz.into_entries().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["x_train", "y_train"]);
    }
}
