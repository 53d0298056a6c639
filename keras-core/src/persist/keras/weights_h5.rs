//! `model.weights.h5` as a map from dataset path to array: the HDF5 layer of Keras's weights
//! files, read and written with the pure-Rust `hdf5-pure` (no libhdf5).
//!
//! Keras 3 writes one group per saveable (`layers/dense`, `optimizer`, and `vars` for the model
//! itself), a `vars` group under each with a `name` attribute, and the variables as datasets
//! `vars/0`, `vars/1`, ... in the saveable's own order. Only what Keras writes is read: float
//! and integer datasets in groups; anything else (a string dataset, a link cycle, a truncated
//! or corrupt file) is an [`Error::KerasFile`](crate::Error::KerasFile), never a panic.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use hdf5_pure::{AttrValue, DType, FileBuilder, GroupBuilder};

/// The values of one dataset.
#[derive(Debug, Clone, PartialEq)]
pub enum H5Data {
    /// `float32` (Keras's default variable dtype).
    F32(Vec<f32>),
    /// `float64`.
    F64(Vec<f64>),
    /// Any integer type (an optimizer's `iteration` counter).
    Int(Vec<i64>),
}

impl H5Data {
    /// The number of elements.
    pub fn len(&self) -> usize {
        match self {
            H5Data::F32(v) => v.len(),
            H5Data::F64(v) => v.len(),
            H5Data::Int(v) => v.len(),
        }
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as `f32` (Keras's float64 variables are narrowed, integers converted).
    pub fn to_f32(&self) -> Vec<f32> {
        match self {
            H5Data::F32(v) => v.clone(),
            H5Data::F64(v) => v.iter().map(|&x| x as f32).collect(),
            H5Data::Int(v) => v.iter().map(|&x| x as f32).collect(),
        }
    }
}

/// One dataset: its shape (empty for a scalar) and values, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct H5Array {
    /// The dimensions.
    pub shape: Vec<usize>,
    /// The values.
    pub data: H5Data,
}

/// A whole weights file: every dataset by path (`layers/dense/vars/0`), and the `name`
/// attribute of each `vars` group (`layers/dense/vars` → `"dense"`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WeightsH5 {
    /// Datasets by path, without a leading `/`.
    pub arrays: BTreeMap<String, H5Array>,
    /// Groups to write (every ancestor of a dataset is written too) with their `name`
    /// attribute, if any.
    pub groups: BTreeMap<String, Option<String>>,
}

/// Groups nested deeper than this are refused (Keras nests a few levels; a deeper or cyclic
/// file is not one of its weights files).
const MAX_DEPTH: usize = 32;
/// At most this many objects are read from one file.
const MAX_OBJECTS: usize = 1 << 20;

impl WeightsH5 {
    /// The datasets `<group>/vars/0`, `<group>/vars/1`, ... in order, stopping at the first
    /// index that is missing.
    pub fn vars(&self, group: &str) -> Vec<(&str, &H5Array)> {
        let mut out = Vec::new();
        for i in 0.. {
            match self.arrays.get_key_value(&format!("{group}/vars/{i}")) {
                Some((k, v)) => out.push((k.as_str(), v)),
                None => break,
            }
        }
        out
    }

    /// How many datasets `<group>/vars/` holds, numbered or not.
    pub fn var_count(&self, group: &str) -> usize {
        let prefix = format!("{group}/vars/");
        self.arrays
            .keys()
            .filter(|k| k.starts_with(&prefix) && !k[prefix.len()..].contains('/'))
            .count()
    }

    /// Adds `<group>/vars` (named `name`) with `arrays` as `vars/0`, `vars/1`, ...
    pub fn put_vars(&mut self, group: &str, name: &str, arrays: Vec<H5Array>) {
        self.groups
            .insert(format!("{group}/vars"), Some(name.to_string()));
        for (i, a) in arrays.into_iter().enumerate() {
            self.arrays.insert(format!("{group}/vars/{i}"), a);
        }
    }

    /// Reads a weights file from its bytes. `Err` is a reason in words.
    pub fn from_bytes(bytes: Vec<u8>) -> std::result::Result<Self, String> {
        let limit = bytes.len().saturating_mul(64).saturating_add(1 << 20);
        match catch_unwind(AssertUnwindSafe(|| read(bytes, limit))) {
            Ok(result) => result,
            Err(_) => Err("the HDF5 reader failed on malformed structures".to_string()),
        }
    }

    /// Serializes the file (HDF5, as h5py and Keras read it).
    pub fn to_bytes(&self) -> std::result::Result<Vec<u8>, String> {
        let mut tree = Node::default();
        for path in self.groups.keys() {
            tree.group_mut(path);
        }
        for (path, array) in &self.arrays {
            let (parent, leaf) = path.rsplit_once('/').unwrap_or(("", path));
            tree.group_mut(parent)
                .datasets
                .push((leaf.to_string(), array));
        }
        for (path, name) in &self.groups {
            tree.group_mut(path).name.clone_from(name);
        }
        let mut builder = FileBuilder::new();
        for (name, child) in &tree.children {
            let mut g = builder.create_group(name);
            child.fill(&mut g);
            builder.add_group(g.finish());
        }
        for (leaf, array) in &tree.datasets {
            write_dataset(builder.create_dataset(leaf), array);
        }
        builder
            .finish()
            .map_err(|e| format!("cannot write HDF5: {e}"))
    }
}

/// A group being assembled for writing.
#[derive(Default)]
struct Node<'a> {
    name: Option<String>,
    children: BTreeMap<String, Node<'a>>,
    datasets: Vec<(String, &'a H5Array)>,
}

impl<'a> Node<'a> {
    fn group_mut(&mut self, path: &str) -> &mut Node<'a> {
        path.split('/')
            .filter(|p| !p.is_empty())
            .fold(self, |node, part| {
                node.children.entry(part.to_string()).or_default()
            })
    }

    fn fill(&self, g: &mut GroupBuilder) {
        if let Some(name) = &self.name {
            g.set_attr("name", AttrValue::String(name.clone()));
        }
        for (name, child) in &self.children {
            let mut sub = g.create_group(name);
            child.fill(&mut sub);
            g.add_group(sub.finish());
        }
        for (leaf, array) in &self.datasets {
            write_dataset(g.create_dataset(leaf), array);
        }
    }
}

fn write_dataset(d: &mut hdf5_pure::DatasetBuilder, array: &H5Array) {
    let shape: Vec<u64> = array.shape.iter().map(|&s| s as u64).collect();
    match &array.data {
        H5Data::F32(v) => d.with_f32_data(v),
        H5Data::F64(v) => d.with_f64_data(v),
        H5Data::Int(v) => d.with_i64_data(v),
    };
    d.with_shape(&shape);
}

fn read(bytes: Vec<u8>, limit: usize) -> std::result::Result<WeightsH5, String> {
    let file = hdf5_pure::File::from_bytes(bytes).map_err(|e| format!("not an HDF5 file: {e}"))?;
    let mut out = WeightsH5::default();
    let mut budget = MAX_OBJECTS;
    walk(&file.root(), "", 0, limit, &mut budget, &mut out)?;
    Ok(out)
}

fn walk(
    group: &hdf5_pure::Group,
    path: &str,
    depth: usize,
    limit: usize,
    budget: &mut usize,
    out: &mut WeightsH5,
) -> std::result::Result<(), String> {
    if depth > MAX_DEPTH {
        return Err(format!(
            "groups nest deeper than {MAX_DEPTH} levels at `{path}`"
        ));
    }
    let join = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}/{name}")
        }
    };
    let err = |what: &str, e: hdf5_pure::Error| format!("cannot read {what} of `/{path}`: {e}");
    let attrs = group.attrs().map_err(|e| err("the attributes", e))?;
    let name = attrs
        .get("name")
        .and_then(|v| v.as_str().map(str::to_string));
    if !path.is_empty() {
        out.groups.insert(path.to_string(), name);
    }
    for name in group.datasets().map_err(|e| err("the datasets", e))? {
        *budget = budget
            .checked_sub(1)
            .ok_or_else(|| format!("more than {MAX_OBJECTS} objects"))?;
        let full = join(&name);
        let d = group
            .dataset(&name)
            .map_err(|e| format!("cannot open dataset `/{full}`: {e}"))?;
        let derr = |e: hdf5_pure::Error| format!("cannot read dataset `/{full}`: {e}");
        let shape: Vec<usize> = d
            .shape()
            .map_err(derr)?
            .into_iter()
            .map(|s| usize::try_from(s).map_err(|_| format!("dataset `/{full}` is too large")))
            .collect::<std::result::Result<_, _>>()?;
        let count = shape
            .iter()
            .try_fold(1usize, |a, &s| a.checked_mul(s))
            .filter(|&n| n <= limit)
            .ok_or_else(|| {
                format!("dataset `/{full}` declares {shape:?}, more than the file holds")
            })?;
        let data = match d.dtype().map_err(derr)? {
            DType::F32 => H5Data::F32(d.read_f32().map_err(derr)?),
            DType::F64 => H5Data::F64(d.read_f64().map_err(derr)?),
            DType::I8
            | DType::I16
            | DType::I32
            | DType::I64
            | DType::U8
            | DType::U16
            | DType::U32 => H5Data::Int(d.read_i64().map_err(derr)?),
            other => return Err(format!("dataset `/{full}` holds {other}, not numbers")),
        };
        if data.len() != count {
            return Err(format!(
                "dataset `/{full}` declares shape {shape:?} but holds {} values",
                data.len()
            ));
        }
        out.arrays.insert(full, H5Array { shape, data });
    }
    for name in group.groups().map_err(|e| err("the groups", e))? {
        *budget = budget
            .checked_sub(1)
            .ok_or_else(|| format!("more than {MAX_OBJECTS} objects"))?;
        let full = join(&name);
        let sub = group
            .group(&name)
            .map_err(|e| format!("cannot open group `/{full}`: {e}"))?;
        walk(&sub, &full, depth + 1, limit, budget, out)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> WeightsH5 {
        let mut f = WeightsH5::default();
        f.put_vars(
            "layers/dense",
            "dense",
            vec![
                H5Array {
                    shape: vec![2, 3],
                    data: H5Data::F32(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
                },
                H5Array {
                    shape: vec![3],
                    data: H5Data::F32(vec![0.5, -0.5, 0.0]),
                },
            ],
        );
        f.put_vars(
            "optimizer",
            "adam",
            vec![H5Array {
                shape: vec![],
                data: H5Data::Int(vec![7]),
            }],
        );
        f.groups.insert("vars".into(), Some("sequential".into()));
        f
    }

    #[test]
    fn a_written_file_reads_back_the_same() {
        let f = sample();
        let back = WeightsH5::from_bytes(f.to_bytes().unwrap()).unwrap();
        assert_eq!(back.arrays, f.arrays);
        assert_eq!(back.groups["layers/dense/vars"], Some("dense".into()));
        assert_eq!(back.groups["vars"], Some("sequential".into()));
        assert_eq!(back.vars("layers/dense").len(), 2);
        assert_eq!(back.var_count("optimizer"), 1);
    }

    #[test]
    fn every_truncation_of_a_file_is_an_error_not_a_panic() {
        let bytes = sample().to_bytes().unwrap();
        let mut accepted = 0;
        for len in (0..bytes.len()).step_by(7) {
            if WeightsH5::from_bytes(bytes[..len].to_vec()).is_ok() {
                accepted += 1;
            }
        }
        assert_eq!(accepted, 0, "a truncated file was accepted");
    }
}

#[cfg(test)]
mod mutation_tests {
    use super::*;

    /// Flips bytes of a real Keras file at 400 places: each read is an error or a file whose
    /// datasets are consistent, and the HDF5 reader itself never panics (the guard in
    /// `from_bytes` is a backstop, not the handling).
    #[test]
    fn flipped_bytes_never_escape_as_panics() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/keras/files/mlp.weights.h5");
        let bytes = std::fs::read(path).unwrap();
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut caught = 0;
        for _ in 0..400 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let mut m = bytes.clone();
            let at = (state % m.len() as u64) as usize;
            m[at] ^= (state >> 32) as u8 | 1;
            match WeightsH5::from_bytes(m) {
                Ok(f) => {
                    for a in f.arrays.values() {
                        assert_eq!(a.data.len(), a.shape.iter().product::<usize>());
                    }
                }
                Err(e) if e.contains("malformed") => caught += 1,
                Err(_) => {}
            }
        }
        assert_eq!(
            caught, 0,
            "the HDF5 reader panicked on {caught} of 400 flipped files"
        );
    }
}
