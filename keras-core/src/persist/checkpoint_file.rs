//! Checkpoint files: model weights (and optionally optimizer state) as safetensors, written
//! atomically, read back against a model's layout.
//!
//! Layout of a file: one `F32` tensor per trainable model variable, named as the variable
//! ([`crate::optimizers::VarInfo::name`]) with its shape; the non-trainable variables
//! (BatchNormalization's moving statistics) as `non_trainable/<name>`; optimizer state entries as
//! 1-D tensors named `optimizer/<entry>`, their order kept in the `optimizer_order` metadata field
//! (a JSON list); the layers' hyper-parameters, when the saver knew them, as a JSON object in the
//! `hyper_parameters` metadata field ([`HyperParameters::to_json`]). The header also carries the file's CRC-32C ([`crate::persist::seal`]), checked
//! before anything is read: a changed or damaged file is an [`Error::Checkpoint`].

use std::{
    borrow::Cow,
    collections::{HashMap, HashSet},
    path::Path,
};

use safetensors::tensor::{Dtype, SafeTensors, View};

use crate::persist::{add_placeholder, read_sealed, seal};
use crate::{
    state::{FlatParams, HyperParameters},
    Error, Result,
};

/// Prefix of optimizer state entries in a checkpoint.
pub const OPTIMIZER_PREFIX: &str = "optimizer/";

/// Prefix of the non-trainable variables (moving statistics) in a checkpoint.
pub const NON_TRAINABLE_PREFIX: &str = "non_trainable/";
const ORDER_KEY: &str = "optimizer_order";
const HYPER_KEY: &str = "hyper_parameters";

struct F32Tensor {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl F32Tensor {
    fn new(shape: Vec<usize>, values: &[f32]) -> Self {
        Self {
            shape,
            bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

impl View for F32Tensor {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn checkpoint_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Writes `weights` (and `optimizer_state`, when given) to `path` atomically: the bytes go to
/// `<path>.tmp` in the same directory, are fsynced, then renamed over `path`, so a failed save
/// leaves any previous file at `path` intact. Missing parent directories are created.
///
/// ```
/// use keras_core::persist::{load_optimizer_state, load_weights, save_checkpoint};
/// use keras_core::optimizers::FlatParams;
///
/// let mut params = FlatParams::from_layout([("dense.kernel", &[2usize, 3][..]), ("dense.bias", &[3][..])]);
/// params.values.iter_mut().enumerate().for_each(|(i, v)| *v = i as f32);
/// let path = std::env::temp_dir().join(format!("doc-ckpt-{}.safetensors", std::process::id()));
/// let state = vec![("iterations".to_string(), vec![4.0])];
/// save_checkpoint(&path, &params, Some(&state))?;
/// assert_eq!(load_weights(&path, &params)?, params.values);
/// assert_eq!(load_optimizer_state(&path)?, state);
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn save_checkpoint(
    path: impl AsRef<Path>,
    weights: &FlatParams,
    optimizer_state: Option<&[(String, Vec<f32>)]>,
) -> Result<()> {
    save_model_checkpoint(path, weights, &FlatParams::default(), None, optimizer_state)
}

/// [`save_checkpoint`] with the model's non-trainable variables too (BatchNormalization's moving
/// statistics, laid out as the trainer's `non_trainable_weights`), so that a model restored from
/// the file predicts as the saved one (see [`load_non_trainable_weights`]), and the layers'
/// hyper-parameters when given, so that a model with other ones can refuse the file (see
/// [`check_hyper_parameters`]).
///
/// ```
/// use keras_core::persist::{
///     check_hyper_parameters, load_non_trainable_weights, load_weights, save_model_checkpoint,
/// };
/// use keras_core::optimizers::FlatParams;
/// use keras_core::state::HyperParameters;
///
/// let mut weights = FlatParams::from_layout([("bn.gamma", &[2usize][..])]);
/// weights.values = vec![1.0, 2.0];
/// let mut stats = FlatParams::from_layout([("bn.running_mean", &[2usize][..])]);
/// stats.values = vec![0.5, -0.5];
/// let path = std::env::temp_dir().join(format!("doc-ckpt-nt-{}.safetensors", std::process::id()));
/// let hp = HyperParameters::from_pairs([("bn.epsilon", 1e-3)]);
/// save_model_checkpoint(&path, &weights, &stats, Some(&hp), None)?;
/// assert_eq!(load_weights(&path, &weights)?, weights.values);
/// assert_eq!(load_non_trainable_weights(&path, &stats)?, stats.values);
/// check_hyper_parameters(&path, &hp)?;
/// let other = HyperParameters::from_pairs([("bn.epsilon", 1e-5)]);
/// assert!(check_hyper_parameters(&path, &other).unwrap_err().to_string().contains("`bn.epsilon`"));
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn save_model_checkpoint(
    path: impl AsRef<Path>,
    weights: &FlatParams,
    non_trainable: &FlatParams,
    hyper_parameters: Option<&HyperParameters>,
    optimizer_state: Option<&[(String, Vec<f32>)]>,
) -> Result<()> {
    let path = path.as_ref();
    let mut names = HashSet::new();
    let mut tensors: Vec<(String, F32Tensor)> =
        Vec::with_capacity(weights.vars.len() + non_trainable.vars.len());
    for (prefix, params) in [("", weights), (NON_TRAINABLE_PREFIX, non_trainable)] {
        for var in &params.vars {
            let name = format!("{prefix}{}", var.name);
            if !names.insert(name.clone()) {
                return Err(checkpoint_error(
                    path,
                    format!("duplicate variable name `{name}`"),
                ));
            }
            let values = params.values.get(var.range()).ok_or_else(|| {
                checkpoint_error(
                    path,
                    format!("variable `{name}` lies outside the value buffer"),
                )
            })?;
            tensors.push((name, F32Tensor::new(var.shape.clone(), values)));
        }
    }
    let mut metadata = HashMap::new();
    metadata.insert("format".to_string(), "keras-rs".to_string());
    if let Some(hp) = hyper_parameters {
        metadata.insert(HYPER_KEY.to_string(), hp.to_json());
    }
    if let Some(state) = optimizer_state {
        let mut order = Vec::with_capacity(state.len());
        for (name, values) in state {
            let full = format!("{OPTIMIZER_PREFIX}{name}");
            if !names.insert(full.clone()) {
                return Err(checkpoint_error(
                    path,
                    format!("duplicate tensor name `{full}`"),
                ));
            }
            order.push(name.clone());
            tensors.push((full, F32Tensor::new(vec![values.len()], values)));
        }
        let order =
            serde_json::to_string(&order).map_err(|e| checkpoint_error(path, e.to_string()))?;
        metadata.insert(ORDER_KEY.to_string(), order);
    }
    add_placeholder(&mut metadata);
    let mut bytes = safetensors::tensor::serialize(tensors, &Some(metadata))
        .map_err(|e| checkpoint_error(path, format!("cannot serialize: {e:?}")))?;
    seal(&mut bytes).map_err(|reason| checkpoint_error(path, reason))?;
    crate::persist::write_atomically(path, &bytes)
}

fn parse<'a>(path: &Path, bytes: &'a [u8]) -> Result<SafeTensors<'a>> {
    SafeTensors::deserialize(bytes)
        .map_err(|e| checkpoint_error(path, format!("not a safetensors file: {e:?}")))
}

fn to_f32(path: &Path, name: &str, dtype: Dtype, data: &[u8]) -> Result<Vec<f32>> {
    if dtype != Dtype::F32 {
        return Err(checkpoint_error(
            path,
            format!("tensor `{name}` has dtype {dtype:?}, expected F32"),
        ));
    }
    Ok(data
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect())
}

/// Reads the model weights of a checkpoint, checked against `layout` (names, shapes, and no
/// extra variables); returns them flat in `layout`'s order. A file from another architecture is
/// an [`Error::Checkpoint`] naming the first variable that does not match.
pub fn load_weights(path: impl AsRef<Path>, layout: &FlatParams) -> Result<Vec<f32>> {
    let path = path.as_ref();
    let bytes = read_sealed(path)?;
    load_prefixed(path, &parse(path, &bytes)?, layout, "")
}

/// Reads the non-trainable variables of a checkpoint written by [`save_model_checkpoint`],
/// checked against `layout` (the model's non-trainable variables) as [`load_weights`] checks
/// the trainable ones. A file saved without them, for a model that has some, is an
/// [`Error::Checkpoint`] naming the first missing one (restoring only the trainable weights
/// would leave a model that never existed).
pub fn load_non_trainable_weights(path: impl AsRef<Path>, layout: &FlatParams) -> Result<Vec<f32>> {
    let path = path.as_ref();
    let bytes = read_sealed(path)?;
    load_prefixed(path, &parse(path, &bytes)?, layout, NON_TRAINABLE_PREFIX)
}

/// The variables of `layout`, stored under `prefix` (`""` for the trainable ones), in
/// `layout`'s order; the file may hold no other variable under that prefix.
fn load_prefixed(
    path: &Path,
    file: &SafeTensors<'_>,
    layout: &FlatParams,
    prefix: &str,
) -> Result<Vec<f32>> {
    let mut out = vec![0.0; layout.values.len()];
    for var in &layout.vars {
        let name = format!("{prefix}{}", var.name);
        let tensor = file.tensor(&name).map_err(|_| {
            checkpoint_error(
                path,
                format!(
                    "variable `{name}` of the model is not in the checkpoint; it was saved from a different model (or without its non-trainable variables)"
                ),
            )
        })?;
        if tensor.shape() != var.shape.as_slice() {
            return Err(checkpoint_error(
                path,
                format!(
                    "variable `{name}` has shape {:?} in the checkpoint but {:?} in the model",
                    tensor.shape(),
                    var.shape
                ),
            ));
        }
        let values = to_f32(path, &name, tensor.dtype(), tensor.data())?;
        out[var.range()].copy_from_slice(&values);
    }
    let mut extra: Vec<&String> = file
        .names()
        .into_iter()
        .filter(|n| {
            let own = if prefix.is_empty() {
                !n.starts_with(OPTIMIZER_PREFIX) && !n.starts_with(NON_TRAINABLE_PREFIX)
            } else {
                n.starts_with(prefix)
            };
            own && layout.find(&n[prefix.len()..]).is_none()
        })
        .collect();
    extra.sort();
    if let Some(name) = extra.first() {
        return Err(checkpoint_error(
            path,
            format!("variable `{name}` of the checkpoint is not in the model; it was saved from a different model"),
        ));
    }
    Ok(out)
}

/// The layers' hyper-parameters a checkpoint recorded; `None` for a file saved without them
/// (by [`save_checkpoint`], or before they were recorded).
pub fn load_hyper_parameters(path: impl AsRef<Path>) -> Result<Option<HyperParameters>> {
    let path = path.as_ref();
    let bytes = read_sealed(path)?;
    let (_, metadata) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| checkpoint_error(path, format!("bad header: {e:?}")))?;
    match metadata.metadata().as_ref().and_then(|m| m.get(HYPER_KEY)) {
        Some(json) => HyperParameters::from_json(json)
            .map(Some)
            .map_err(|reason| checkpoint_error(path, reason)),
        None => Ok(None),
    }
}

/// `Ok` when the checkpoint at `path` recorded the hyper-parameters `model` has (or recorded
/// none); otherwise an [`Error::Checkpoint`] naming the first field path that differs and both
/// values.
pub fn check_hyper_parameters(path: impl AsRef<Path>, model: &HyperParameters) -> Result<()> {
    let path = path.as_ref();
    match load_hyper_parameters(path)? {
        Some(saved) => model
            .check_matches(&saved)
            .map_err(|reason| checkpoint_error(path, reason)),
        None => Ok(()),
    }
}

/// Reads the optimizer state entries of a checkpoint (empty if it was saved weights-only), in
/// the order they were saved.
pub fn load_optimizer_state(path: impl AsRef<Path>) -> Result<Vec<(String, Vec<f32>)>> {
    let path = path.as_ref();
    let bytes = read_sealed(path)?;
    let file = parse(path, &bytes)?;
    let (_, metadata) = SafeTensors::read_metadata(&bytes)
        .map_err(|e| checkpoint_error(path, format!("bad header: {e:?}")))?;
    let order: Vec<String> = match metadata.metadata().as_ref().and_then(|m| m.get(ORDER_KEY)) {
        Some(json) => serde_json::from_str(json)
            .map_err(|e| checkpoint_error(path, format!("bad `{ORDER_KEY}` metadata: {e}")))?,
        None => {
            let mut names: Vec<String> = file
                .names()
                .into_iter()
                .filter_map(|n| n.strip_prefix(OPTIMIZER_PREFIX).map(str::to_string))
                .collect();
            names.sort();
            names
        }
    };
    order
        .into_iter()
        .map(|name| {
            let full = format!("{OPTIMIZER_PREFIX}{name}");
            let tensor = file.tensor(&full).map_err(|_| {
                checkpoint_error(path, format!("optimizer entry `{name}` is missing"))
            })?;
            let values = to_f32(path, &full, tensor.dtype(), tensor.data())?;
            Ok((name, values))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::temp_path;
    use std::path::PathBuf;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("keras-ckptfile-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn params() -> FlatParams {
        let mut p = FlatParams::from_layout([("a.kernel", &[2usize, 2][..]), ("a.bias", &[2][..])]);
        p.values = vec![1.0, -2.0, 3.5, 4.0, 0.25, -0.0];
        p
    }

    #[test]
    fn weights_round_trip_bit_exactly() {
        let path = dir("roundtrip").join("w.safetensors");
        let p = params();
        save_checkpoint(&path, &p, None).unwrap();
        let back = load_weights(&path, &p).unwrap();
        assert_eq!(
            back.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            p.values.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert!(load_optimizer_state(&path).unwrap().is_empty());
        assert!(!temp_path(&path).exists());
    }

    #[test]
    fn a_checkpoint_of_another_shape_is_rejected_naming_the_variable() {
        let path = dir("shape").join("w.safetensors");
        save_checkpoint(&path, &params(), None).unwrap();
        let other = FlatParams::from_layout([("a.kernel", &[2usize, 3][..]), ("a.bias", &[2][..])]);
        let err = load_weights(&path, &other).unwrap_err();
        assert!(
            matches!(err, Error::Checkpoint { ref reason, .. } if reason.contains("`a.kernel`")),
            "{err}"
        );
    }

    #[test]
    fn a_checkpoint_with_missing_or_extra_variables_is_rejected() {
        let path = dir("names").join("w.safetensors");
        save_checkpoint(&path, &params(), None).unwrap();
        let renamed =
            FlatParams::from_layout([("b.kernel", &[2usize, 2][..]), ("a.bias", &[2][..])]);
        let err = load_weights(&path, &renamed).unwrap_err();
        assert!(err.to_string().contains("`b.kernel`"), "{err}");
        let fewer = FlatParams::from_layout([("a.kernel", &[2usize, 2][..])]);
        let err = load_weights(&path, &fewer).unwrap_err();
        assert!(err.to_string().contains("`a.bias`"), "{err}");
    }

    #[test]
    fn a_file_that_is_not_safetensors_is_a_checkpoint_error() {
        let path = dir("garbage").join("w.safetensors");
        std::fs::write(&path, b"not a checkpoint").unwrap();
        assert!(matches!(
            load_weights(&path, &params()),
            Err(Error::Checkpoint { .. })
        ));
    }

    #[test]
    fn optimizer_state_keeps_its_order() {
        let path = dir("order").join("w.safetensors");
        let state = vec![
            ("z/momentum".to_string(), vec![1.0, 2.0]),
            ("a/momentum".to_string(), vec![3.0]),
            ("iterations".to_string(), vec![7.0]),
        ];
        save_checkpoint(&path, &params(), Some(&state)).unwrap();
        assert_eq!(load_optimizer_state(&path).unwrap(), state);
        assert_eq!(load_weights(&path, &params()).unwrap(), params().values);
    }
}
