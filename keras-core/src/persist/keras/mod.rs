//! Keras 3's own files, in and out: `.weights.h5` (Keras's `model.save_weights`) and `.keras`
//! (Keras's `model.save`: a zip of `metadata.json`, `config.json` and `model.weights.h5`), so
//! that models move between Keras and Rust.
//!
//! - A model's layers are described by [`KerasLayers`] (every layer of
//!   [`crate::layers`], tuples, and derived models: fields in declaration order are Keras's
//!   layer order). Keras stores layer `k` of class `C` under `layers/<c>[_n]/vars/<i>`
//!   ([`keras_names`](crate::layers::keras_names)), variables in Keras's order (Dense: kernel `[in, out]`, bias;
//!   BatchNormalization: gamma, beta, moving_mean, moving_variance).
//! - The optimizer's variables live under `optimizer/vars` (`optimizer_vars.rs`): the iteration
//!   count, the learning rate, then the slots in Keras's creation order.
//! - HDF5 is read and written by the pure-Rust `hdf5-pure` ([`WeightsH5`]); no libhdf5.
//! - Loading checks the whole file first (every layer present, every variable count and shape;
//!   no layer in the file the model lacks; in a `.keras` file, the layers' hyper-parameters): an [`Error::KerasFile`] names the layer path and
//!   both shapes, and nothing is written into the model unless everything checks.
//!
//! The trainer's doors are [`Trainer::save_keras_weights`](crate::Trainer::save_keras_weights),
//! [`Trainer::load_keras_weights`](crate::Trainer::load_keras_weights) and
//! [`Trainer::save_keras`](crate::Trainer::save_keras); a model without a trainer uses
//! [`save_weights`] and [`load_weights`].

mod archive;
mod config;
mod config_check;
mod model_vars;
mod optimizer_vars;
mod weights_h5;

use std::path::Path;

use dfdx::nn::tensor_collection::TensorCollection;

pub use archive::KerasArchive;
pub use config::KERAS_VERSION;
pub use weights_h5::{H5Array, H5Data, WeightsH5};

pub(crate) use config::{compile_config, metadata, sequential_config};
use config_check::check_layer_configs;
use model_vars::{put_model, take_model};
pub(crate) use optimizer_vars::{put_optimizer, take_optimizer};

use crate::device::KerasDevice;
use crate::layers::{KerasLayerSpec, KerasLayers};
use crate::state::FlatParams;
use crate::{model, Error, Result};

/// An [`Error::KerasFile`] for `path`.
pub(crate) fn file_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::KerasFile {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The kinds of Keras files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// `*.weights.h5` (or any `*.h5`): the weights file alone.
    WeightsH5,
    /// `*.keras`: the zip of config, metadata and weights.
    Keras,
}

impl FileKind {
    /// The kind `path`'s extension names, or an error saying which extensions are known.
    pub fn of(path: &Path) -> Result<Self> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("h5") => Ok(FileKind::WeightsH5),
            Some("keras") => Ok(FileKind::Keras),
            _ => Err(file_error(
                path,
                "a Keras file name ends in `.weights.h5` or `.keras`",
            )),
        }
    }
}

/// Reads the weights of a `.weights.h5` or `.keras` file (for a `.keras` file, also its
/// config).
pub fn read_weights(path: &Path) -> Result<(WeightsH5, Option<serde_json::Value>)> {
    let kind = FileKind::of(path)?;
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    match kind {
        FileKind::WeightsH5 => Ok((
            WeightsH5::from_bytes(bytes).map_err(|r| file_error(path, r))?,
            None,
        )),
        FileKind::Keras => {
            let archive = KerasArchive::from_bytes(&bytes).map_err(|r| file_error(path, r))?;
            let weights = WeightsH5::from_bytes(archive.weights)
                .map_err(|r| file_error(path, format!("model.weights.h5: {r}")))?;
            Ok((weights, Some(archive.config)))
        }
    }
}

/// The Keras layers of `model`.
pub fn layers_of<M: KerasLayers>(model: &M) -> Result<Vec<KerasLayerSpec>> {
    let mut layers = Vec::new();
    model.keras_layers("", &mut layers)?;
    Ok(layers)
}

/// Saves `model`'s weights (trainable and non-trainable) as a Keras `.weights.h5` file that
/// Keras's `model.load_weights` reads into the same architecture; atomically.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{BatchNormalization, Dense, ReLU};
/// use keras_core::persist::keras;
///
/// let dev = Cpu::seed_from_u64(0);
/// let saved = dev.build_module::<(Dense<3, 4, ReLU>, BatchNormalization<4>, Dense<4, 2>), f32>();
/// let path = std::env::temp_dir().join(format!("doc-keras-{}.weights.h5", std::process::id()));
/// keras::save_weights(&saved, &path)?;
///
/// let mut loaded = Cpu::seed_from_u64(1).build_module::<(Dense<3, 4, ReLU>, BatchNormalization<4>, Dense<4, 2>), f32>();
/// keras::load_weights(&mut loaded, &path)?;
/// assert_eq!(loaded.0.kernel.as_vec(), saved.0.kernel.as_vec());
///
/// // Another architecture is refused, naming the layer and both shapes.
/// let mut other = dev.build_module::<(Dense<3, 5, ReLU>, BatchNormalization<5>, Dense<5, 2>), f32>();
/// let err = keras::load_weights(&mut other, &path).unwrap_err().to_string();
/// assert!(err.contains("`0.kernel`") && err.contains("[3, 4]") && err.contains("[3, 5]"), "{err}");
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn save_weights<M, D>(model: &M, path: impl AsRef<Path>) -> Result<()>
where
    M: KerasLayers + TensorCollection<f32, D>,
    D: KerasDevice,
{
    let path = path.as_ref();
    let file = model_file(model, &model::layout(model)?, path)?;
    write_weights_file(path, &file)
}

/// Loads the weights of a Keras `.weights.h5` or `.keras` file into `model` (layers in field
/// order; see the module docs). The optimizer state a file may hold is not read here.
pub fn load_weights<M, D>(model: &mut M, path: impl AsRef<Path>) -> Result<()>
where
    M: KerasLayers + TensorCollection<f32, D>,
    D: KerasDevice,
{
    let path = path.as_ref();
    let (file, config) = read_weights(path)?;
    check_config(config.as_ref(), model, path)?;
    let mut trainable = model::layout(model)?;
    let (values, fixed) = model_values(&file, model, &trainable, path)?;
    trainable.values = values;
    model::scatter_values(model, &trainable)?;
    model::scatter_non_trainable(model, &fixed)
}

/// A weights file holding `model`'s variables (`trainable` is its trainable layout, with the
/// current values).
pub(crate) fn model_file<M, D>(model: &M, trainable: &FlatParams, path: &Path) -> Result<WeightsH5>
where
    M: KerasLayers + TensorCollection<f32, D>,
    D: KerasDevice,
{
    let layers = layers_of(model)?;
    let non_trainable = model::non_trainable_layout(model)?;
    let mut file = WeightsH5::default();
    put_model(&mut file, &layers, trainable, &non_trainable, "sequential")
        .map_err(|r| file_error(path, r))?;
    Ok(file)
}

/// `model`'s new `(trainable, non_trainable)` values from `file`, checked whole ([`take_model`]);
/// `trainable` is the model's trainable layout.
pub(crate) fn model_values<M, D>(
    file: &WeightsH5,
    model: &M,
    trainable: &FlatParams,
    path: &Path,
) -> Result<(Vec<f32>, Vec<f32>)>
where
    M: KerasLayers + TensorCollection<f32, D>,
    D: KerasDevice,
{
    let layers = layers_of(model)?;
    let non_trainable = model::non_trainable_layout(model)?;
    take_model(file, &layers, trainable, &non_trainable).map_err(|r| file_error(path, r))
}

/// For a `.keras` file's `config`: an [`Error::KerasFile`] when a layer's hyper-parameters
/// there differ from `model`'s ([`check_layer_configs`]).
pub(crate) fn check_config<M: KerasLayers>(
    config: Option<&serde_json::Value>,
    model: &M,
    path: &Path,
) -> Result<()> {
    match config {
        Some(config) => {
            check_layer_configs(config, &layers_of(model)?).map_err(|r| file_error(path, r))
        }
        None => Ok(()),
    }
}

/// Writes a `.weights.h5` or `.keras` path's bytes atomically.
pub(crate) fn write_weights_file(path: &Path, file: &WeightsH5) -> Result<()> {
    if FileKind::of(path)? != FileKind::WeightsH5 {
        return Err(file_error(
            path,
            "Keras's weights file name ends in `.weights.h5`",
        ));
    }
    let bytes = file.to_bytes().map_err(|r| file_error(path, r))?;
    crate::persist::write_atomically(path, &bytes)
}
