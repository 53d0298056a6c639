//! The optimizer's slots where the variables live, between steps that run there.

use crate::device::{Buffer, KerasDevice};
use crate::kernels::update::VarBuffers;

/// An optimizer's slots (momentum, velocity, ...) kept on the device between resident steps
/// ([`Optimizer::apply_resident`](super::Optimizer::apply_resident)), so that no step copies
/// them between host and device.
///
/// While it is *live* these buffers are the optimizer's state and the optimizer's own host
/// buffers are released (the state is never held twice);
/// [`Optimizer::sync_resident`](super::Optimizer::sync_resident) gives the host buffers back,
/// copies the state into them and frees these. The trainer owns one and syncs it wherever the
/// host state is read (callbacks, checkpoints, the end of `fit`).
#[derive(Debug)]
pub struct DeviceState<D: KerasDevice> {
    /// Each variable's state buffers.
    pub(crate) vars: Vec<VarBuffers<Buffer<D>>>,
    /// The gradients' sums of squares for `clipnorm` (one per variable) or `global_clipnorm`
    /// (one), kept from step to step.
    pub(crate) sums: Option<(D::SumSquares, usize)>,
    /// The sum of squares of all gradients a finiteness check reads
    /// ([`Optimizer::apply_resident_if_finite`](super::Optimizer::apply_resident_if_finite)).
    pub(crate) finite: Option<D::SumSquares>,
    /// Whether `vars` hold the optimizer's current state.
    pub(crate) live: bool,
}

impl<D: KerasDevice> Default for DeviceState<D> {
    fn default() -> Self {
        Self {
            vars: Vec::new(),
            sums: None,
            finite: None,
            live: false,
        }
    }
}

impl<D: KerasDevice> DeviceState<D> {
    /// Whether the device holds the optimizer's current slots (its host copies are stale).
    pub fn is_live(&self) -> bool {
        self.live
    }
}
