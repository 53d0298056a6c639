//! The model's own buffers of its trainable variables, so that an optimizer can read each
//! gradient from, and write each new value to, them in the pass that updates the variable.

use std::marker::PhantomData;

/// One variable's buffers in host memory: its values and its gradient, `len` floats each (built
/// by the crate only; see [`KerasDevice::host_var`](crate::KerasDevice::host_var)).
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct HostVar {
    pub(crate) value: *mut f32,
    pub(crate) grad: *mut f32,
    pub(crate) len: usize,
}

// SAFETY: a `HostVar` is only addresses; they are dereferenced only inside
// `Optimizer::apply_in_place`, where every block of every buffer is touched by one thread.
unsafe impl Send for HostVar {}
// SAFETY: as above.
unsafe impl Sync for HostVar {}

/// The host buffers (values and gradients) of a model's trainable variables, in the order of
/// the [`FlatParams`](super::FlatParams) variables, borrowed from the model and its gradients.
///
/// Only the trainer builds one, on devices that keep tensors in host memory (`Cpu`), and hands
/// it to [`Optimizer::apply_in_place`](super::Optimizer::apply_in_place).
#[derive(Debug)]
pub struct HostParams<'a> {
    vars: &'a [HostVar],
    _borrow: PhantomData<&'a mut f32>,
}

impl<'a> HostParams<'a> {
    /// The buffers in `vars`, which must point into live, distinct buffers of `len` floats that
    /// nothing else touches while the `HostParams` is in use.
    pub(crate) fn new(vars: &'a [HostVar]) -> Self {
        Self {
            vars,
            _borrow: PhantomData,
        }
    }

    /// The variables' buffers.
    pub(crate) fn vars(&self) -> &'a [HostVar] {
        self.vars
    }
}
