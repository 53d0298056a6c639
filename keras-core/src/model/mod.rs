//! Models: the bounds a trainable model meets, and moving its parameters to and from the flat
//! host buffers ([`FlatParams`](crate::optimizers::FlatParams)) that optimizers and callbacks use.
//!
//! A model is any dfdx module with a `TensorCollection` (what `#[derive(Sequential)]` and
//! `#[derive(Model)]` generate): `Module` for inference, `ModuleMut` for the training forward.

mod all_reduce;
mod hyper_parameters;
mod optimizer_step;
mod params;
mod resident;
mod summary;

pub(crate) use all_reduce::all_reduce_grads;
pub use hyper_parameters::hyper_parameters;
pub(crate) use optimizer_step::sync_values;
pub use optimizer_step::{optimizer_step, optimizer_step_if_finite, sync_host, StepBuffers};
pub use params::non_trainable_layout;
pub(crate) use params::scatter_non_trainable;
pub use params::{gather_grads, gather_values, layout, scatter_values, take_grads};
pub use summary::summary;
pub(crate) use summary::summary_of;
