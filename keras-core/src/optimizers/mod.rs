//! Optimizers with Keras's numerics: on flat host parameter buffers ([`Optimizer::apply`]), or
//! where the model's variables live ([`Optimizer::apply_resident`]: the update of each variable
//! runs as a kernel of its device, see [`crate::kernels::update`], with the slots kept there in a
//! [`DeviceState`]).
//!
//! Keras's template: a generic base, [`KerasOptimizer`], does once and in Keras's order the
//! loss-scale undo, gradient accumulation, clipping, decoupled weight decay, the per-parameter
//! update and EMA; each optimizer file ([`Sgd`], [`Adam`], [`AdamW`], [`RMSprop`], [`Adagrad`],
//! [`Adadelta`], [`Adamax`], [`Nadam`], [`Lion`], [`Ftrl`], [`Lamb`], [`Adafactor`]) supplies only
//! its hyper-parameters, its slots and the per-variable update ([`UpdateRule`]). Learning rates
//! are constants or [`schedules`].
//!
//! ```
//! use keras_core::optimizers::{Adam, FlatParams, Optimizer};
//! let mut opt = Adam::new().with_learning_rate(0.01).with_clipnorm(1.0).build().unwrap();
//! let mut params = FlatParams::from_layout([("dense.kernel", &[2, 2][..]), ("dense.bias", &[2][..])]);
//! params.grads.copy_from_slice(&[0.1, -0.2, 0.3, 0.0, 1.0, 1.0]);
//! opt.apply(&mut params).unwrap();
//! assert_eq!(opt.iterations(), 1);
//! ```
//!
//! A parameter that received no gradient is marked with [`VarInfo::has_grad`] `= false`; the
//! step then fails with [`Error::MissingGradient`](crate::Error::MissingGradient) unless the
//! optimizer was built `with_allow_missing_gradients(true)`, in which case the variable is
//! skipped as Keras does.

mod adadelta;
mod adafactor;
mod adagrad;
mod adam;
mod adamax;
mod adamw;
mod base_options;
mod buffers;
mod builder;
mod clipping;
mod device_state;
mod ftrl;
mod keras_optimizer;
mod keras_spec;
mod lamb;
mod learning_rate;
mod lion;
mod moments;
mod nadam;
mod pipeline;
mod resident_vars;
mod rmsprop;
pub mod schedules;
mod sgd;
mod state;
pub(crate) use state::{decode_iterations, encode_iterations};
mod update_rule;

pub use crate::kernels::update::VarBuffers;
pub use crate::state::{FlatParams, VarInfo};
pub use adadelta::Adadelta;
pub(crate) use adafactor::factored as adafactor_factors;
pub use adafactor::Adafactor;
pub use adagrad::Adagrad;
pub use adam::Adam;
pub use adamax::Adamax;
pub use adamw::AdamW;
pub use builder::OptimizerBuilder;
pub use device_state::DeviceState;
pub use ftrl::Ftrl;
pub(crate) use keras_optimizer::variables_of;
pub use keras_optimizer::KerasOptimizer;
pub use keras_spec::KerasOptimizerSpec;
pub use lamb::Lamb;
pub use learning_rate::LearningRate;
pub use lion::Lion;
pub use nadam::Nadam;
pub use resident_vars::ResidentVars;
pub use rmsprop::RMSprop;
pub use sgd::Sgd;
pub use update_rule::{Slots, StepContext, UpdateRule, MAX_SLOTS};

use crate::device::KerasDevice;
use crate::Result;

/// Variables as an optimizer's state records them: each one's field path and shape, in order.
pub type Variables = Vec<(String, Vec<usize>)>;

/// An optimizer as the trainer drives it.
pub trait Optimizer {
    /// Applies one step (Keras's `apply_gradients`): reads `params.grads` and updates
    /// `params.values` in place.
    fn apply(&mut self, params: &mut FlatParams) -> Result<()>;

    /// One step like [`apply`](Self::apply) on the variables where they live (`vars`: the
    /// model's own buffers, on its device), each updated by its device's kernel
    /// ([`KerasDevice::try_update_variable`]) and its gradient zeroed there, with the optimizer's
    /// slots kept in `state` on the device: nothing is copied between host and device. The
    /// optimizer's counters and learning rate advance on the host as in `apply`; `params` gives
    /// the layout (names, shapes) and is not read otherwise, nor written: its values and the
    /// optimizer's host slots are stale until [`sync_resident`](Self::sync_resident) and a
    /// gather of the values.
    ///
    /// Returns `Ok(false)`, having changed nothing, when this optimizer cannot take the step so
    /// (the default; or a rule the device has no kernel for, a variable without gradient); the
    /// caller then takes the host path, after a sync.
    fn apply_resident<D: KerasDevice, V: ResidentVars<D>>(
        &mut self,
        params: &FlatParams,
        vars: &mut V,
        state: &mut DeviceState<D>,
    ) -> Result<bool> {
        let _ = (params, vars, state);
        Ok(false)
    }

    /// [`apply_resident`](Self::apply_resident) when every gradient is finite (NaN and
    /// infinities skip the step, as `fit`'s `skip_non_finite` and a loss scale do on the host):
    /// `Some(true)` when it stepped, `Some(false)` when it skipped, changing nothing but the
    /// gradients (zeroed, as the host path leaves them), `None` when it declines, changing
    /// nothing (the default); the caller then takes the host path.
    fn apply_resident_if_finite<D: KerasDevice, V: ResidentVars<D>>(
        &mut self,
        params: &FlatParams,
        vars: &mut V,
        state: &mut DeviceState<D>,
    ) -> Result<Option<bool>> {
        let _ = (params, vars, state);
        Ok(None)
    }

    /// Copies the slots a live `state` holds back into this optimizer's own buffers, so that
    /// [`state`](Self::state), [`apply`](Self::apply) and checkpoints see them, and marks `state`
    /// no longer live (the next resident step uploads the slots again). A no-op when `state` is
    /// not live.
    fn sync_resident<D: KerasDevice>(
        &mut self,
        state: &mut DeviceState<D>,
        device: &D,
    ) -> Result<()> {
        let _ = device;
        state.live = false;
        Ok(())
    }

    /// The learning rate the next step will use (a schedule is evaluated at the current
    /// iteration).
    fn learning_rate(&self) -> f32;

    /// Sets the learning rate (replacing a schedule by a constant), as `ReduceLROnPlateau` and
    /// `LearningRateScheduler` do.
    fn set_learning_rate(&mut self, lr: f32) -> Result<()>;

    /// Keras's `optimizer.iterations`: the number of `apply` calls so far, divided by
    /// `gradient_accumulation_steps` when gradients are accumulated.
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

    /// What Keras's files hold of this optimizer: class, config and the order of its variables
    /// ([`KerasOptimizerSpec`]). `None` (the default) for an optimizer Keras's files cannot
    /// describe.
    fn keras_spec(&self) -> Option<KerasOptimizerSpec> {
        None
    }

    /// The variables (field paths and shapes, in order) the state belongs to: those of the
    /// parameters of its first step, or those a loaded state declared. `None` (the default)
    /// before either.
    fn variables(&self) -> Option<Variables> {
        None
    }

    /// Declares the variables a loaded state belongs to (see [`load_optimizer`](crate::persist::optimizer_state_file::load_optimizer)): when the
    /// optimizer already knows its parameters they must be these, otherwise its first step
    /// checks them, and a difference is an [`Error::ShapeMismatch`](crate::Error::ShapeMismatch) naming the first variable
    /// path that differs. The default accepts anything.
    fn expect_variables(&mut self, variables: Variables) -> Result<()> {
        let _ = variables;
        Ok(())
    }
}

/// The first difference between two variable lists, in words naming the variable path, or
/// `None` when they are the same.
pub(crate) fn variables_differ(
    saved: &[(String, Vec<usize>)],
    model: &[(String, Vec<usize>)],
) -> Option<String> {
    for (i, (s, m)) in saved.iter().zip(model).enumerate() {
        if s != m {
            return Some(format!(
                "variable {i} is `{}` of shape {:?} in the optimizer state but `{}` of shape {:?} in the model",
                s.0, s.1, m.0, m.1
            ));
        }
    }
    match saved.len().cmp(&model.len()) {
        std::cmp::Ordering::Equal => None,
        std::cmp::Ordering::Less => Some(format!(
            "the optimizer state covers {} variables but the model has {} (`{}` has none)",
            saved.len(),
            model.len(),
            model[saved.len()].0
        )),
        std::cmp::Ordering::Greater => Some(format!(
            "the optimizer state covers {} variables but the model has {} (`{}` is not in the model)",
            saved.len(),
            model.len(),
            saved[model.len()].0
        )),
    }
}
