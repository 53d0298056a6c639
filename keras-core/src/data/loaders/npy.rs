//! NumPy `.npy` files into flat `f32` arrays, and `f32` arrays back into `.npy` files.
//!
//! The parser never panics and never allocates more than the input's size: shape products
//! use checked arithmetic and are compared with the bytes that actually follow the header.

use std::path::Path;

use super::npy_header::parse_header;
use crate::{Error, Result};

const MAGIC: &[u8; 6] = b"\x93NUMPY";
const SUPPORTED: &str = "<f4, <f8, <i4, <i8, |u1, <u1, |b1";

/// A row-major array read from a `.npy` file (or an `.npz` entry), converted to `f32`.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::{load_npy, save_npy};
///
/// let path = std::env::temp_dir().join(format!("keras-npy-doc-{}.npy", std::process::id()));
/// save_npy(&path, &[2, 3], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0])?;
/// let array = load_npy(&path)?;
/// assert_eq!(array.shape, [2, 3]);
/// assert_eq!(array.data, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
/// assert_eq!(array.sample_shape(), [3]);
/// # let _ = std::fs::remove_file(&path);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The array's shape (`[]` for a scalar).
    pub shape: Vec<usize>,
    /// Row-major values, `shape.iter().product()` of them.
    pub data: Vec<f32>,
}

impl NpyArray {
    /// Parses the bytes of a `.npy` file (errors name the path `<bytes>`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        parse_npy(bytes).map_err(|reason| npy_error("<bytes>", reason))
    }

    /// The shape of one sample: the shape without its first (batch) axis.
    pub fn sample_shape(&self) -> &[usize] {
        self.shape.get(1..).unwrap_or_default()
    }

    /// The number of samples: the first axis's length (1 for a scalar).
    pub fn num_samples(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }
}

/// Reads a `.npy` file of dtype `<f4`, `<f8`, `<i4`, `<i8`, `|u1`/`<u1` or `|b1` as `f32`.
///
/// Errors: [`Error::Io`] naming the path; [`Error::Npy`] for a bad magic string, a truncated
/// header or data, an unsupported or big-endian dtype, `fortran_order: True`, or a shape that
/// does not match the data length.
pub fn load_npy(path: impl AsRef<Path>) -> Result<NpyArray> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse_npy(&bytes).map_err(|reason| npy_error(path, reason))
}

/// [`load_npy`], then checks that each sample has shape `expected_sample_shape`: the file's
/// shape must be `[n, expected_sample_shape...]` for some `n`.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::{load_npy_expect, save_npy};
///
/// let path = std::env::temp_dir().join(format!("keras-npy-expect-{}.npy", std::process::id()));
/// save_npy(&path, &[2, 2, 2], &[0.0; 8])?;
/// assert_eq!(load_npy_expect(&path, &[2, 2])?.num_samples(), 2);
/// let err = load_npy_expect(&path, &[4]).unwrap_err();
/// assert!(err.to_string().contains("expected shape [n, 4], found [2, 2, 2]"));
/// # let _ = std::fs::remove_file(&path);
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn load_npy_expect(
    path: impl AsRef<Path>,
    expected_sample_shape: &[usize],
) -> Result<NpyArray> {
    let path = path.as_ref();
    let array = load_npy(path)?;
    if array.shape.len() != expected_sample_shape.len() + 1
        || array.sample_shape() != expected_sample_shape
    {
        let expected: Vec<String> = std::iter::once("n".to_string())
            .chain(expected_sample_shape.iter().map(usize::to_string))
            .collect();
        let reason = format!(
            "expected shape [{}], found {:?}",
            expected.join(", "),
            array.shape
        );
        return Err(npy_error(path, reason));
    }
    Ok(array)
}

pub(crate) fn npy_error(path: impl AsRef<Path>, reason: String) -> Error {
    Error::Npy {
        path: path.as_ref().to_path_buf(),
        reason,
    }
}

/// The dtypes this loader converts to `f32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dtype {
    F4,
    F8,
    I4,
    I8,
    U1,
    B1,
}

impl Dtype {
    fn parse(descr: Option<&str>) -> std::result::Result<Self, String> {
        Ok(match descr {
            Some("<f4") => Dtype::F4,
            Some("<f8") => Dtype::F8,
            Some("<i4") => Dtype::I4,
            Some("<i8") => Dtype::I8,
            Some("|u1" | "<u1") => Dtype::U1,
            Some("|b1") => Dtype::B1,
            Some(d) if d.starts_with('>') => {
                return Err(format!(
                    "dtype '{d}' is big-endian; supported dtypes are {SUPPORTED} (save with arr.astype('<f4'))"
                ))
            }
            Some(d) => return Err(format!("unsupported dtype '{d}'; supported dtypes are {SUPPORTED}")),
            None => return Err(format!("structured dtypes are not supported; supported dtypes are {SUPPORTED}")),
        })
    }

    /// Bytes per element.
    pub(crate) fn size(self) -> usize {
        match self {
            Dtype::F4 | Dtype::I4 => 4,
            Dtype::F8 | Dtype::I8 => 8,
            Dtype::U1 | Dtype::B1 => 1,
        }
    }

    fn to_f32(self, bytes: &[u8]) -> Vec<f32> {
        let mut out = Vec::with_capacity(bytes.len() / self.size());
        self.extend_f32(bytes, &mut out);
        out
    }

    /// Appends the elements of `bytes` (little-endian, whole elements) to `out` as `f32`.
    pub(crate) fn extend_f32(self, bytes: &[u8], out: &mut Vec<f32>) {
        let n = self.size();
        let chunks = bytes.chunks_exact(n);
        let b4 = |c: &[u8]| [c[0], c[1], c[2], c[3]];
        let b8 = |c: &[u8]| [c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]];
        match self {
            Dtype::F4 => out.extend(
                bytes
                    .chunks_exact(4)
                    .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
            ),
            Dtype::F8 => out.extend(chunks.map(|c| f64::from_le_bytes(b8(c)) as f32)),
            Dtype::I4 => out.extend(chunks.map(|c| i32::from_le_bytes(b4(c)) as f32)),
            Dtype::I8 => out.extend(chunks.map(|c| i64::from_le_bytes(b8(c)) as f32)),
            Dtype::U1 => out.extend(bytes.iter().map(|&b| f32::from(b))),
            Dtype::B1 => out.extend(bytes.iter().map(|&b| if b != 0 { 1.0 } else { 0.0 })),
        }
    }
}

/// Where a `.npy` file's elements are: after `data_offset` header bytes, `dtype` elements of
/// `shape`, row-major.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NpyLayout {
    pub data_offset: usize,
    pub dtype: Dtype,
    pub shape: Vec<usize>,
    /// `shape`'s element count times the dtype's size.
    pub data_len: usize,
}

/// Parses a whole `.npy` file; the error is the reason, in words.
pub(crate) fn parse_npy(bytes: &[u8]) -> std::result::Result<NpyArray, String> {
    let layout = npy_layout(bytes, bytes.len())?;
    let data = &bytes[layout.data_offset..];
    Ok(NpyArray {
        data: layout.dtype.to_f32(data),
        shape: layout.shape,
    })
}

/// Parses the header of a `.npy` file whose first bytes are `bytes` and whose length is
/// `file_len` (the header must be in `bytes`), and checks that the data the header declares is
/// exactly what follows it.
pub(crate) fn npy_layout(bytes: &[u8], file_len: usize) -> std::result::Result<NpyLayout, String> {
    if !bytes.starts_with(MAGIC) {
        let what = if MAGIC.starts_with(bytes) {
            "truncated header"
        } else {
            "bad magic"
        };
        return Err(format!("{what}: a .npy file starts with \\x93NUMPY"));
    }
    let (Some(&major), Some(&minor)) = (bytes.get(6), bytes.get(7)) else {
        return Err("truncated header: no format version".to_string());
    };
    let len_size = match major {
        1 => 2,
        2 | 3 => 4,
        _ => {
            return Err(format!(
                "unsupported format version {major}.{minor} (1.0, 2.0 and 3.0 are)"
            ))
        }
    };
    let len_bytes = bytes
        .get(8..8 + len_size)
        .ok_or("truncated header: no header length")?;
    let header_len = len_bytes
        .iter()
        .rev()
        .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
    let start = 8 + len_size;
    let end = start.saturating_add(header_len);
    let Some(header) = bytes.get(start..end) else {
        let found = bytes.len() - start;
        return Err(format!(
            "truncated header: declares {header_len} bytes but only {found} follow"
        ));
    };
    let text = std::str::from_utf8(header).map_err(|_| "header is not text".to_string())?;
    let header = parse_header(text)?;
    let dtype = Dtype::parse(header.descr.as_deref())?;
    if header.fortran_order {
        return Err(
            "fortran_order True is not supported; save a C-ordered array (np.ascontiguousarray)"
                .into(),
        );
    }
    let shape = header.shape;
    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    let needed = count.and_then(|c| c.checked_mul(dtype.size()));
    let Some(needed) = needed else {
        return Err(format!("shape {shape:?} is too large to address"));
    };
    let data_len = file_len.saturating_sub(end);
    let descr = header.descr.unwrap_or_default();
    if data_len < needed {
        return Err(format!(
            "truncated data: shape {shape:?} of {descr} needs {needed} bytes but only {data_len} follow the header"
        ));
    }
    if data_len > needed {
        return Err(format!(
            "shape/data length mismatch: shape {shape:?} of {descr} needs {needed} bytes but {data_len} follow the header"
        ));
    }
    Ok(NpyLayout {
        data_offset: end,
        dtype,
        shape,
        data_len: needed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A version-1.0 `.npy` file with this header dict and data.
    fn npy(dict: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&[1, 0]);
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    fn dict(descr: &str, shape: &str) -> String {
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n")
    }

    #[test]
    fn little_unsigned_bytes_and_booleans_convert() {
        let a = parse_npy(&npy(&dict("<u1", "(3,)"), &[0, 7, 255])).unwrap();
        assert_eq!(a.data, [0.0, 7.0, 255.0]);
        let a = parse_npy(&npy(&dict("|b1", "(2,)"), &[2, 0])).unwrap();
        assert_eq!(a.data, [1.0, 0.0]);
    }

    #[test]
    fn every_big_endian_dtype_is_called_big_endian() {
        for descr in [">f4", ">f8", ">i4", ">i8"] {
            let reason = parse_npy(&npy(&dict(descr, "(0,)"), &[])).unwrap_err();
            assert!(reason.contains("big-endian"), "{reason}");
        }
    }

    #[test]
    fn a_structured_dtype_is_named_as_such() {
        let header = "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }";
        let reason = parse_npy(&npy(header, &[0; 4])).unwrap_err();
        assert!(
            reason.starts_with("structured dtypes are not supported"),
            "{reason}"
        );
    }

    #[test]
    fn an_unknown_format_version_is_named() {
        let mut bytes = npy(&dict("<f4", "(1,)"), &[0; 4]);
        bytes[6] = 4;
        assert_eq!(
            parse_npy(&bytes).unwrap_err(),
            "unsupported format version 4.0 (1.0, 2.0 and 3.0 are)"
        );
    }

    #[test]
    fn a_zero_length_axis_needs_no_data_even_with_huge_other_axes() {
        let a = parse_npy(&npy(&dict("<f8", "(0, 18446744073709551615)"), &[])).unwrap();
        assert_eq!((a.shape.len(), a.data.len()), (2, 0));
    }

    #[test]
    fn sample_shape_and_num_samples_follow_the_first_axis() {
        let scalar = NpyArray {
            shape: vec![],
            data: vec![1.0],
        };
        assert_eq!(
            (scalar.num_samples(), scalar.sample_shape()),
            (1, [].as_slice())
        );
        let batch = NpyArray {
            shape: vec![4, 2, 3],
            data: vec![0.0; 24],
        };
        assert_eq!(
            (batch.num_samples(), batch.sample_shape()),
            (4, [2, 3].as_slice())
        );
    }
}
