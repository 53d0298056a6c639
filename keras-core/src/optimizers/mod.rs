//! Optimizers with Keras's numerics, on flat host parameter buffers.
//!
//! Keras's template: a base ([`base`]) does, once and in Keras's order, loss-scale undo,
//! gradient accumulation, clipping, decoupled weight decay, the per-parameter update and EMA;
//! each optimizer file supplies only its per-parameter update.

mod params;

pub use params::{FlatParams, VarInfo};

use crate::Result;

/// An optimizer as the trainer drives it.
pub trait Optimizer {
    /// Applies one step (Keras's `apply_gradients`): reads `params.grads` and updates
    /// `params.values` in place.
    fn apply(&mut self, params: &mut FlatParams) -> Result<()>;

    /// The learning rate the next step will use (a schedule is evaluated at the current
    /// iteration).
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate (replacing a schedule by a constant), as `ReduceLROnPlateau` and
    /// `LearningRateScheduler` do.
    fn set_learning_rate(&mut self, lr: f32) -> Result<()>;

    /// Number of `apply` calls so far (Keras's `optimizer.iterations`).
    fn iterations(&self) -> u64;

    /// End of `fit`: overwrites the model variables with their moving averages when EMA is on
    /// (Keras's `finalize_variable_values`). A no-op otherwise.
    fn finalize(&mut self, _params: &mut FlatParams) {}

    /// The factor the loss is multiplied by before backward (Keras's `scale_loss`); gradients
    /// are divided by it in [`Optimizer::apply`]. Defaults to 1.
    fn loss_scale(&self) -> f32 {
        1.0
    }

    /// The optimizer's whole state (slots, iteration count, EMA, accumulators) as named flat
    /// tensors, for checkpoints.
    fn state(&self) -> Vec<(String, Vec<f32>)>;

    /// Restores a state written by [`Optimizer::state`] (of an optimizer of the same kind over
    /// the same parameters).
    fn load_state(&mut self, state: &[(String, Vec<f32>)]) -> Result<()>;
}
