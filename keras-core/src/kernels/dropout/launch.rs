//! The launches of `dropout.cu`'s kernels, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike.

use super::DropoutMask;
use crate::kernels::Launch;

/// Every kernel of `dropout.cu`.
pub(crate) const NAMES: [&str; 4] = [
    "keras_dropout_forward_f32",
    "keras_dropout_backward_f32",
    "keras_dropout_forward_f64",
    "keras_dropout_backward_f64",
];

/// Threads per block.
const THREADS: u32 = 256;

/// A dtype `dropout.cu` has kernels for.
pub(crate) trait DropoutDtype: Copy {
    /// The forward kernel's name.
    const FORWARD: &'static str;
    /// The backward kernel's name.
    const BACKWARD: &'static str;
}

impl DropoutDtype for f32 {
    const FORWARD: &'static str = NAMES[0];
    const BACKWARD: &'static str = NAMES[1];
}

impl DropoutDtype for f64 {
    const FORWARD: &'static str = NAMES[2];
    const BACKWARD: &'static str = NAMES[3];
}

/// The parameters of either kernel: elements, seed, threshold, the kept elements' divisor, the
/// input's (forward: `x`; backward: the output's gradient) and the output's (forward: `y`;
/// backward: the input's gradient, added to) addresses.
pub(crate) type DropoutParams<E> = (usize, u64, u64, E, u64, u64);

/// The launch over `n` elements reading `from` and writing (forward) or adding to (backward)
/// `to`, for `mask` and the divisor `keep`.
pub(crate) fn plan<E: DropoutDtype>(
    n: usize,
    mask: DropoutMask,
    keep: E,
    from: u64,
    to: u64,
) -> (Launch, DropoutParams<E>) {
    (
        Launch::grid_stride(n, THREADS),
        (n, mask.seed, mask.threshold, keep, from, to),
    )
}
