//! `Trainer::summary`: Keras's `model.summary()` table of the compiled model.

use dfdx::nn::tensor_collection::TensorCollection;

use super::Trainer;
use crate::layers::KerasLayers;
use crate::{device::KerasDevice, model, optimizers::Optimizer, Result};

impl<M, O, L, Mt, Wm, D> Trainer<M, O, L, Mt, Wm, D>
where
    M: TensorCollection<f32, D> + KerasLayers,
    O: Optimizer,
    D: KerasDevice,
{
    /// Keras's `model.summary()`: one row per layer (name and class, output shape, parameter
    /// count), the trainable and non-trainable totals and, once the optimizer has taken a step,
    /// its variables as Keras counts them (iteration, learning rate, slots), drawn as Keras 3
    /// draws the table ([`model::summary`] for a model without a trainer).
    pub fn summary(&self) -> Result<String> {
        let trainable = model::layout(&self.model)?;
        let non_trainable = model::non_trainable_layout(&self.model)?;
        let optimizer_params = self
            .optimizer
            .keras_spec()
            .filter(|_| self.optimizer.iterations() > 0)
            .map(|spec| {
                let slots: usize = spec.slot_groups.iter().map(|g| g.len()).sum();
                1 + usize::from(spec.learning_rate_variable) + slots * trainable.values.len()
            });
        model::summary_of(&self.model, &trainable, &non_trainable, optimizer_params)
    }
}
