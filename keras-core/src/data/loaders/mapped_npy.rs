//! A `.npy` file mapped into memory (`memmap2`): its elements are read where they lie, one
//! sample at a time, so a data set larger than the process's memory can be trained on.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use memmap2::Mmap;

use super::npy::{npy_error, npy_layout, NpyLayout};
use crate::{Error, Result};

/// A `.npy` file of dtype `<f4`, `<f8`, `<i4`, `<i8`, `|u1`/`<u1` or `|b1`, mapped read-only;
/// samples (the slices along the first axis) are converted to `f32` as they are read.
///
/// A mapped file must not change while it is mapped: its header and length are checked at
/// [`open`](MappedNpy::open), and [`check_unchanged`](MappedNpy::check_unchanged) compares its
/// length and modification time with those seen then (the [`NpyDataset`](crate::data::NpyDataset)
/// calls it every [`CHECK_EVERY`](crate::data::NpyDataset::CHECK_EVERY) samples), so a file
/// truncated or rewritten under the mapping becomes an [`Error::Npy`] instead of wrong samples.
/// Between two checks, a truncation can still stop the process with `SIGBUS`, as with any
/// memory map.
///
/// # Examples
/// ```
/// use keras_core::data::loaders::{save_npy, MappedNpy};
///
/// let path = std::env::temp_dir().join(format!("keras-mapped-doc-{}.npy", std::process::id()));
/// save_npy(&path, &[3, 2], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// let mapped = MappedNpy::open(&path)?;
/// assert_eq!((mapped.num_samples(), mapped.sample_len()), (3, 2));
/// let mut row = Vec::new();
/// mapped.append_sample(1, &mut row)?;
/// assert_eq!(row, [3.0, 4.0]);
/// # drop(mapped);
/// # let _ = std::fs::remove_file(&path);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug)]
pub struct MappedNpy {
    path: PathBuf,
    file: File,
    map: Mmap,
    layout: NpyLayout,
    file_len: u64,
    modified: Option<SystemTime>,
    sample_len: usize,
}

impl MappedNpy {
    /// Maps the file at `path` and checks its header and length.
    ///
    /// Errors: [`Error::Io`] naming the path; [`Error::Npy`] as [`load_npy`](super::load_npy)
    /// (bad magic, truncated header or data, unsupported dtype, `fortran_order`, a shape that
    /// does not match the length), and for an empty file or a scalar (no sample axis).
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let meta = file.metadata().map_err(|e| Error::io(path, e))?;
        if meta.len() == 0 {
            return Err(npy_error(
                path,
                "empty file: a .npy file starts with \\x93NUMPY".into(),
            ));
        }
        // SAFETY: the map is read-only and private to this value. The file may still change
        // under it (another process); `check_unchanged` detects that at its next call, and every
        // read goes through a bounds-checked slice of the map.
        let map = unsafe { Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let file_len =
            usize::try_from(meta.len()).map_err(|_| npy_error(path, "file too large".into()))?;
        let layout = npy_layout(&map, file_len).map_err(|reason| npy_error(path, reason))?;
        let Some((_, sample_shape)) = layout.shape.split_first() else {
            return Err(npy_error(
                path,
                "a scalar has no samples; save an array with a first (sample) axis".into(),
            ));
        };
        let sample_len = sample_shape.iter().product();
        Ok(Self {
            path: path.to_path_buf(),
            file,
            map,
            layout,
            file_len: meta.len(),
            modified: meta.modified().ok(),
            sample_len,
        })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The array's shape.
    pub fn shape(&self) -> &[usize] {
        &self.layout.shape
    }

    /// The number of samples (the first axis's length).
    pub fn num_samples(&self) -> usize {
        self.layout.shape[0]
    }

    /// The number of values in one sample.
    pub fn sample_len(&self) -> usize {
        self.sample_len
    }

    /// Appends sample `index`'s values to `out`, as `f32`. An index past the last sample is an
    /// [`Error::Npy`] naming it.
    pub fn append_sample(&self, index: usize, out: &mut Vec<f32>) -> Result<()> {
        let size = self.layout.dtype.size();
        let bytes = index
            .checked_mul(self.sample_len * size)
            .and_then(|start| {
                let from = self.layout.data_offset + start;
                self.map.get(from..from + self.sample_len * size)
            })
            .filter(|_| index < self.num_samples());
        let Some(bytes) = bytes else {
            return Err(npy_error(
                &self.path,
                format!(
                    "sample {index} is past the last of {} samples",
                    self.num_samples()
                ),
            ));
        };
        self.layout.dtype.extend_f32(bytes, out);
        Ok(())
    }

    /// Checks that the file still has the length and modification time it had when it was
    /// mapped; a file truncated, extended or rewritten since is an [`Error::Npy`].
    pub fn check_unchanged(&self) -> Result<()> {
        let meta = self.file.metadata().map_err(|e| Error::io(&self.path, e))?;
        if meta.len() != self.file_len {
            return Err(npy_error(
                &self.path,
                format!(
                    "the file changed while mapped: {} bytes, {} when it was opened",
                    meta.len(),
                    self.file_len
                ),
            ));
        }
        if meta.modified().ok() != self.modified {
            return Err(npy_error(
                &self.path,
                "the file was rewritten while mapped (its modification time changed)".into(),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::loaders::save_npy;

    fn temp(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("keras-mapped-{name}-{}.npy", std::process::id()))
    }

    #[test]
    fn samples_read_from_the_map_equal_the_loaded_array() {
        let path = temp("equal");
        let values: Vec<f32> = (0..24).map(|i| i as f32 * 0.5).collect();
        save_npy(&path, &[4, 3, 2], &values).unwrap();
        let mapped = MappedNpy::open(&path).unwrap();
        assert_eq!(mapped.shape(), [4, 3, 2]);
        let mut all = Vec::new();
        for i in 0..4 {
            mapped.append_sample(i, &mut all).unwrap();
        }
        assert_eq!(all, values);
        assert!(mapped.append_sample(4, &mut all).is_err());
        mapped.check_unchanged().unwrap();
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_file_truncated_under_the_map_is_a_typed_error() {
        let path = temp("truncated");
        save_npy(&path, &[8, 4], &[1.0; 32]).unwrap();
        let mapped = MappedNpy::open(&path).unwrap();
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.set_len(64).unwrap();
        let err = mapped.check_unchanged().unwrap_err();
        assert!(
            matches!(&err, Error::Npy { reason, .. } if reason.contains("changed while mapped")),
            "{err}"
        );
        drop(mapped);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn bad_files_are_refused_at_open() {
        let empty = temp("empty");
        std::fs::write(&empty, b"").unwrap();
        assert!(matches!(MappedNpy::open(&empty), Err(Error::Npy { .. })));
        let short = temp("short");
        save_npy(&short, &[4, 4], &[0.0; 16]).unwrap();
        let bytes = std::fs::read(&short).unwrap();
        std::fs::write(&short, &bytes[..bytes.len() - 4]).unwrap();
        let err = MappedNpy::open(&short).unwrap_err();
        assert!(err.to_string().contains("truncated data"), "{err}");
        let scalar = temp("scalar");
        save_npy(&scalar, &[], &[1.0]).unwrap();
        assert!(MappedNpy::open(&scalar)
            .unwrap_err()
            .to_string()
            .contains("scalar"));
        assert!(matches!(
            MappedNpy::open(temp("missing")),
            Err(Error::Io { .. })
        ));
        for p in [empty, short, scalar] {
            std::fs::remove_file(p).unwrap();
        }
    }
}
