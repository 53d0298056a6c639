//! A model's trainable variables as an optimizer updates them where they live.

use crate::device::{Buffer, KerasDevice};
use crate::Result;

/// The buffers of a model's trainable variables and of their gradients, on their device, in the
/// order of the model's [`FlatParams`](super::FlatParams) layout: what a resident step
/// ([`Optimizer::apply_resident`](super::Optimizer::apply_resident)) updates in place.
///
/// The `model` module implements it over a model and its gradients.
pub trait ResidentVars<D: KerasDevice> {
    /// The device the buffers are on.
    fn device(&self) -> &D;

    /// Calls `f(device, i, value, grad)` for each trainable variable `i`, in layout order, with
    /// the variable's buffer (its own: never shared with another tensor) and its gradient's
    /// (allocated if missing). Stops at the first error.
    fn for_each_var<F>(&mut self, f: F) -> Result<()>
    where
        F: FnMut(&D, usize, &mut Buffer<D>, &mut Buffer<D>) -> Result<()>;
}
