//! The trainer's doors to Keras's own files: `save_keras_weights` / `load_keras_weights`
//! (`.weights.h5`, Keras's `model.save_weights` / `load_weights`, model and optimizer state)
//! and `save_keras` (`.keras`, Keras's `model.save`: architecture, compile config and state).
//! The formats live in [`crate::persist::keras`].

use std::path::Path;

use dfdx::nn::tensor_collection::TensorCollection;

use super::Trainer;
use crate::layers::KerasLayers;
use crate::losses::LossFn;
use crate::metrics::KerasMetrics;
use crate::persist::keras::{self as kf, file_error, FileKind, KerasArchive, WeightsH5};
use crate::{device::KerasDevice, model, optimizers::Optimizer, Result};

/// What [`Trainer::load_keras_weights`] loaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct KerasLoad {
    /// Whether the file's optimizer state (iteration count, learning rate, slots) was loaded:
    /// `false` when the file has none, or its optimizer is another one than the trainer's (a
    /// different class or variable layout), which Keras also skips.
    pub optimizer: bool,
}

impl<M, O, L, Mt, Wm, D> Trainer<M, O, L, Mt, Wm, D>
where
    M: TensorCollection<f32, D> + KerasLayers,
    O: Optimizer,
    D: KerasDevice,
{
    /// The model's and the optimizer's state as Keras's weights file holds them.
    fn keras_weights(&mut self, path: &Path) -> Result<WeightsH5> {
        self.sync_host()?;
        let mut file = kf::model_file(&self.model, &self.params, path)?;
        if let Some(spec) = self.optimizer.keras_spec() {
            if spec.state_unsupported.is_none() {
                kf::put_optimizer(&mut file, &spec, &self.optimizer.state(), &self.params)
                    .map_err(|r| file_error(path, r))?;
            }
        }
        Ok(file)
    }

    /// Saves the model's weights (trainable and non-trainable, by layer) and the optimizer's
    /// state as a Keras `.weights.h5` file (Keras's `model.save_weights`), atomically: Keras's
    /// `model.load_weights` reads it into the same architecture built in Python, optimizer state
    /// included when Keras's optimizer is the same. The optimizer state is left out for an
    /// optimizer Keras's files cannot describe ([`Optimizer::keras_spec`]) or whose state has no
    /// Keras layout here (EMA, gradient accumulation).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::nn::DeviceBuildExt;
    /// use keras_core::prelude::*;
    ///
    /// let compile = |seed| -> keras_core::Result<_> {
    ///     let dev = Cpu::seed_from_u64(seed);
    ///     Trainer::compile(
    ///         dev.build_module::<(Dense<2, 4, ReLU>, BatchNormalization<4>, Dense<4, 1>), f32>(),
    ///         Adam::new().build()?,
    ///         losses::MeanSquaredError::default(),
    ///         (),
    ///         &dev,
    ///     )
    /// };
    /// let data = ArrayDataset::<Rank1<2>, DenseTarget<1>>::new(vec![0.5, -1.0, 2.0, 0.0], vec![1.0, 0.0])?;
    /// let mut trained = compile(1)?;
    /// trained.fit(&data).epochs(2).verbose(0).run()?;
    /// let path = std::env::temp_dir().join(format!("doc-trainer-{}.weights.h5", std::process::id()));
    /// trained.save_keras_weights(&path)?;
    ///
    /// let mut restored = compile(2)?;
    /// assert!(restored.load_keras_weights(&path)?.optimizer);
    /// assert_eq!(restored.predict(&data).run()?, trained.predict(&data).run()?);
    /// assert_eq!(restored.optimizer().iterations(), 2);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), keras_core::Error>(())
    /// ```
    pub fn save_keras_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let file = self.keras_weights(path)?;
        kf::write_weights_file(path, &file)
    }

    /// Loads a Keras `.weights.h5` or `.keras` file (made by Keras 3 or by this crate) into the
    /// model, layers in field order, BatchNormalization's moving statistics included, and the
    /// optimizer's state (iteration count, learning rate, slots) when the file holds one for
    /// the same optimizer over the same variables ([`KerasLoad::optimizer`] says whether it
    /// did). The whole file is checked before anything changes: another architecture (a missing
    /// or extra layer, a variable's shape) is an [`Error::KerasFile`](crate::Error::KerasFile)
    /// naming the layer path and both shapes, a `.keras` file saved with other hyper-parameters
    /// (a Dropout rate, an activation) one naming the layer, the key and both values, and a
    /// truncated or corrupt file is one too.
    pub fn load_keras_weights(&mut self, path: impl AsRef<Path>) -> Result<KerasLoad> {
        let path = path.as_ref();
        let (file, config) = kf::read_weights(path)?;
        kf::check_config(config.as_ref(), &self.model, path)?;
        let (values, fixed) = kf::model_values(&file, &self.model, &self.params, path)?;
        let optimizer_state = match self.optimizer.keras_spec() {
            Some(spec) => kf::take_optimizer(&file, &spec, &self.params).unwrap_or(None),
            None => None,
        };
        // Everything checked: now write. A sync first, so that the next resident step uploads
        // the loaded slots.
        self.sync_host()?;
        self.set_weights(&values)?;
        model::scatter_non_trainable(&mut self.model, &fixed)?;
        let optimizer = match optimizer_state {
            Some(state) => {
                self.optimizer.load_state(&state)?;
                true
            }
            None => false,
        };
        Ok(KerasLoad { optimizer })
    }

    /// Saves the whole model as a Keras `.keras` file (Keras's `model.save`): `config.json`
    /// describes it as a Keras `Sequential` of its layers (classes, units, activations, input
    /// shape) with the compile config (optimizer and loss, when both have a Keras form, and the
    /// metrics and weighted metrics that have one, [`MetricFn::keras_config`](crate::metrics::MetricFn::keras_config)), and
    /// `model.weights.h5` holds the weights and the optimizer's state as
    /// [`save_keras_weights`](Self::save_keras_weights) writes them; so
    /// `keras.saving.load_model(path)` rebuilds it with no Python code and `model.fit`
    /// continues. The layers must chain as a `Sequential` (a `#[derive(Sequential)]` model or a
    /// tuple; a `#[derive(Model)]` model is refused, see [`KerasLayers::SEQUENTIAL`]); a model whose first layer's type does not fix the input shape is an
    /// [`Error::KerasFile`](crate::Error::KerasFile). Written atomically.
    pub fn save_keras(&mut self, path: impl AsRef<Path>) -> Result<()>
    where
        L: LossFn,
        Mt: KerasMetrics,
        Wm: KerasMetrics,
    {
        let path = path.as_ref();
        if FileKind::of(path)? != FileKind::Keras {
            return Err(file_error(path, "a Keras model file name ends in `.keras`"));
        }
        if !M::SEQUENTIAL {
            return Err(file_error(
                path,
                "the model's forward pass is written by hand (#[derive(Model)]), which no Keras \
                 Sequential config describes; save its weights with save_keras_weights",
            ));
        }
        let file = self.keras_weights(path)?;
        let layers = kf::layers_of(&self.model)?;
        let compile = match (self.optimizer.keras_spec(), self.loss.keras_config()) {
            (Some(spec), Some(loss)) => Some(kf::compile_config(
                &spec,
                loss,
                self.metrics.keras_configs(),
                self.weighted_metrics.keras_configs(),
            )),
            _ => None,
        };
        let config = kf::sequential_config(&layers, "sequential", compile)
            .map_err(|r| file_error(path, r))?;
        let archive = KerasArchive {
            metadata: kf::metadata(),
            config,
            weights: file.to_bytes().map_err(|r| file_error(path, r))?,
        };
        let bytes = archive.to_bytes().map_err(|r| file_error(path, r))?;
        crate::persist::write_atomically(path, &bytes)
    }
}
