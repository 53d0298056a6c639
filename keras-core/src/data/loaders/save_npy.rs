//! Writes `f32` arrays as `.npy` files (`<f4`, C order) that NumPy reads with `np.load`.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Writes `data` with shape `shape` to `path` as a little-endian `float32` `.npy` file.
///
/// The file is written next to `path` under a temporary name and then renamed over it, so
/// readers never see half a file. `data.len()` must equal the product of `shape` (1 for `[]`),
/// else [`Error::ShapeMismatch`]; I/O failures are [`Error::Io`] naming the path.
///
/// # Examples
///
/// ```
/// use keras_core::data::loaders::{load_npy, save_npy};
///
/// let path = std::env::temp_dir().join(format!("keras-save-npy-{}.npy", std::process::id()));
/// save_npy(&path, &[3], &[0.5, 1.5, 2.5])?;
/// assert_eq!(load_npy(&path)?.data, [0.5, 1.5, 2.5]);
/// assert!(save_npy(&path, &[2, 2], &[0.0; 3]).is_err());
/// # let _ = std::fs::remove_file(&path);
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn save_npy(path: impl AsRef<Path>, shape: &[usize], data: &[f32]) -> Result<()> {
    let path = path.as_ref();
    let bytes = encode_npy(shape, data)?;
    crate::atomic_file::write_atomically_as(path, &temp_path(path), &bytes)
}

/// The bytes of a `.npy` file holding `data` with shape `shape`.
pub(crate) fn encode_npy(shape: &[usize], data: &[f32]) -> Result<Vec<u8>> {
    let count = shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if count != Some(data.len()) {
        return Err(Error::ShapeMismatch {
            name: "data",
            expected: format!(
                "{} values for shape {shape:?}",
                count.map_or("too many".into(), |c| c.to_string())
            ),
            got: format!("{} values", data.len()),
        });
    }
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let mut header = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Version 1.0 stores the header length in 2 bytes, 2.0 in 4; the whole preamble is padded
    // with spaces to a multiple of 64 bytes and ends in a newline, as NumPy writes it.
    let (version, prefix) = if header.len() + 11 + 64 <= usize::from(u16::MAX) {
        (1u8, 10)
    } else {
        (2u8, 12)
    };
    let padded = (prefix + header.len() + 1).div_ceil(64) * 64;
    header.push_str(&" ".repeat(padded - prefix - header.len() - 1));
    header.push('\n');
    let mut bytes = Vec::with_capacity(padded + 4 * data.len());
    bytes.extend_from_slice(b"\x93NUMPY");
    bytes.extend_from_slice(&[version, 0]);
    if version == 1 {
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    } else {
        bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
    }
    bytes.extend_from_slice(header.as_bytes());
    for value in data {
        bytes.extend_from_slice(&value.to_le_bytes());
    }
    Ok(bytes)
}

/// A sibling of `path` that no other writer uses at the same time.
fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::loaders::npy::parse_npy;

    #[test]
    fn headers_are_padded_to_64_bytes_and_end_in_a_newline() {
        for shape in [vec![], vec![1], vec![2, 3], vec![1; 30]] {
            let count = shape.iter().product::<usize>();
            let bytes = encode_npy(&shape, &vec![1.0; count]).unwrap();
            let header_end = bytes.len() - 4 * count;
            assert_eq!(header_end % 64, 0);
            assert_eq!(bytes[header_end - 1], b'\n');
            assert_eq!(parse_npy(&bytes).unwrap().shape, shape);
        }
    }

    #[test]
    fn a_scalar_and_a_vector_use_pythons_tuple_syntax() {
        let text = String::from_utf8_lossy(&encode_npy(&[4], &[0.0; 4]).unwrap()).into_owned();
        assert!(text.contains("'shape': (4,), }"));
        let text = String::from_utf8_lossy(&encode_npy(&[], &[7.0]).unwrap()).into_owned();
        assert!(text.contains("'shape': (), }"));
    }

    #[test]
    fn a_data_length_that_does_not_match_the_shape_is_rejected() {
        let err = encode_npy(&[2, 3], &[0.0; 5]).unwrap_err();
        assert!(
            err.to_string()
                .contains("expected 6 values for shape [2, 3], got 5 values"),
            "{err}"
        );
        assert!(encode_npy(&[usize::MAX, 2], &[]).is_err());
    }
}
