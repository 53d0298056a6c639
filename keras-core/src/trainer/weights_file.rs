//! `Trainer::save_weights` / `load_weights`: the model's whole weights (trainable and
//! non-trainable) to and from a checkpoint file; `save_checkpoint` / `load_checkpoint`: the
//! same with the optimizer's state, all a run continues from.

use std::path::Path;

use dfdx::nn::tensor_collection::TensorCollection;

use super::Trainer;
use crate::persist::{
    check_hyper_parameters, load_non_trainable_weights, load_optimizer_state, load_weights,
    save_model_checkpoint,
};
use crate::{device::KerasDevice, model, optimizers::Optimizer, Error, Result};

impl<M, O, L, Mt, Wm, D> Trainer<M, O, L, Mt, Wm, D>
where
    M: TensorCollection<f32, D>,
    O: Optimizer,
    D: KerasDevice,
{
    /// The model's non-trainable variables (BatchNormalization's moving statistics), named by
    /// field path, with their current values (Keras's `model.non_trainable_weights`).
    pub fn non_trainable_weights(&self) -> Result<crate::state::FlatParams> {
        model::non_trainable_layout(&self.model)
    }

    /// Saves the model's weights to `path` (Keras's `model.save_weights`): the trainable ones and
    /// the non-trainable ones (BatchNormalization's moving statistics), named by field path, with
    /// a record of the layers' hyper-parameters ([`model::hyper_parameters`]), in
    /// the checkpoint format of [`save_model_checkpoint`], atomically (a failed save leaves any
    /// previous file intact).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::nn::DeviceBuildExt;
    /// use keras_core::prelude::*;
    ///
    /// let dev = Cpu::seed_from_u64(0);
    /// let compile = |seed| -> keras_core::Result<_> {
    ///     let dev = Cpu::seed_from_u64(seed);
    ///     Trainer::compile(
    ///         dev.build_module::<(Dense<2, 4>, BatchNormalization<4>, Dense<4, 1>), f32>(),
    ///         Sgd::new().build()?,
    ///         losses::MeanSquaredError::default(),
    ///         (),
    ///         &dev,
    ///     )
    /// };
    /// let mut trained = compile(1)?;
    /// let data = ArrayDataset::<Rank1<2>, DenseTarget<1>>::new(vec![0.5, -1.0, 2.0, 0.0], vec![1.0, 0.0])?;
    /// trained.fit(&data).epochs(2).verbose(0).run()?;
    /// let path = std::env::temp_dir().join(format!("doc-save-weights-{}.safetensors", std::process::id()));
    /// trained.save_weights(&path)?;
    ///
    /// let mut restored = compile(2)?;
    /// restored.load_weights(&path)?;
    /// assert_eq!(restored.predict(&data).run()?, trained.predict(&data).run()?);
    /// # std::fs::remove_file(&path).ok();
    /// # Ok::<(), keras_core::Error>(())
    /// ```
    pub fn save_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.sync_host()?;
        let non_trainable = model::non_trainable_layout(&self.model)?;
        let hyper_parameters = model::hyper_parameters(&self.model)?;
        save_model_checkpoint(
            path,
            &self.params,
            &non_trainable,
            Some(&hyper_parameters),
            None,
        )
    }

    /// Loads weights saved by [`save_weights`](Self::save_weights) or `ModelCheckpoint` into the
    /// model (Keras's `model.load_weights`), trainable and non-trainable, checked against this
    /// model's variables (names, shapes, nothing missing or extra) and hyper-parameters (a
    /// Dropout rate or BatchNormalization epsilon the file recorded must be this model's): a
    /// file from another model, or one saved without the moving statistics this model has, is an
    /// [`Error::Checkpoint`](crate::Error::Checkpoint) naming the first variable that differs,
    /// and the model is left as it was (nothing is written unless the whole file checks). The
    /// optimizer's state is not touched.
    pub fn load_weights(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let non_trainable_layout = model::non_trainable_layout(&self.model)?;
        let values = load_weights(path, &self.params)?;
        let non_trainable = load_non_trainable_weights(path, &non_trainable_layout)?;
        // After the variables, so that a file of another architecture is named as such.
        check_hyper_parameters(path, &model::hyper_parameters(&self.model)?)?;
        self.set_weights(&values)?;
        model::scatter_non_trainable(&mut self.model, &non_trainable)
    }

    /// Saves everything training continues from to `path`: the weights, the non-trainable
    /// variables and the optimizer's state (slots, iteration count, learning rate), as
    /// `ModelCheckpoint` does with `save_weights_only = false`; atomically. Restore it with
    /// [`load_checkpoint`](Self::load_checkpoint).
    pub fn save_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        self.sync_host()?;
        let non_trainable = model::non_trainable_layout(&self.model)?;
        let hyper_parameters = model::hyper_parameters(&self.model)?;
        let state = self.optimizer.state();
        save_model_checkpoint(
            path,
            &self.params,
            &non_trainable,
            Some(&hyper_parameters),
            Some(&state),
        )
    }

    /// Loads a checkpoint written by [`save_checkpoint`](Self::save_checkpoint) or a full
    /// `ModelCheckpoint`: weights, non-trainable variables and the optimizer's state, so that
    /// training continues as if it had not stopped. Everything is checked before anything
    /// changes: a file of another model (other variables or hyper-parameters), a file saved
    /// weights only, or an optimizer state of
    /// another optimizer (or other variables) is an [`Error::Checkpoint`] and the trainer is left
    /// as it was.
    pub fn load_checkpoint(&mut self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let non_trainable_layout = model::non_trainable_layout(&self.model)?;
        let values = load_weights(path, &self.params)?;
        let non_trainable = load_non_trainable_weights(path, &non_trainable_layout)?;
        // After the variables, so that a file of another architecture is named as such.
        check_hyper_parameters(path, &model::hyper_parameters(&self.model)?)?;
        let state = load_optimizer_state(path)?;
        if state.is_empty() {
            return Err(Error::Checkpoint {
                path: path.to_path_buf(),
                reason: "the checkpoint holds weights only (no optimizer state); load it with \
                         load_weights"
                    .into(),
            });
        }
        // Synced first, so that the next resident step uploads the loaded slots; the optimizer
        // checks the whole state before it changes.
        self.sync_host()?;
        self.optimizer
            .load_state(&state)
            .map_err(|e| Error::Checkpoint {
                path: path.to_path_buf(),
                reason: format!("the optimizer state does not fit this optimizer: {e}"),
            })?;
        self.set_weights(&values)?;
        model::scatter_non_trainable(&mut self.model, &non_trainable)
    }
}
