//! The launches of `crossentropy.cu`'s kernels, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike.

use crate::kernels::Launch;

/// The loss's forward (one block).
pub(crate) const FORWARD: &str = "keras_xent_forward";
/// The logits' gradient.
pub(crate) const BACKWARD: &str = "keras_xent_backward";
/// Every kernel of `crossentropy.cu`.
pub(crate) const NAMES: [&str; 2] = [FORWARD, BACKWARD];

/// The forward's block (`KERAS_XENT_THREADS`: its tree is written for exactly this many).
const FORWARD_THREADS: u32 = 256;
/// Threads per block of the backward.
const BACKWARD_THREADS: u32 = 256;

/// The buffers of one loss, by address: `rows × k` logits and labels, `rows` weights (0 for
/// none), `2 × rows` floats of per-row statistics, the loss (one float).
#[derive(Debug, Clone, Copy)]
pub(crate) struct XentBuffers {
    /// Rows of the batch.
    pub rows: usize,
    /// Classes per row.
    pub k: usize,
    /// The logits.
    pub x: u64,
    /// The labels (dense rows).
    pub t: u64,
    /// One weight per row, or 0.
    pub w: u64,
    /// What the weighted sum is divided by.
    pub divisor: f32,
    /// Each row's log-sum-exp and label sum, written by the forward.
    pub stats: u64,
}

/// [`FORWARD`]'s parameters: rows, classes, logits, labels, weights, divisor, statistics, loss.
pub(crate) type ForwardParams = (usize, usize, u64, u64, u64, f32, u64, u64);

/// [`BACKWARD`]'s parameters: rows, classes, logits, labels, weights, divisor, statistics, the
/// loss's gradient, the logits' gradient.
pub(crate) type BackwardParams = (usize, usize, u64, u64, u64, f32, u64, u64, u64);

/// The forward, writing the loss at `loss`.
pub(crate) fn forward(b: XentBuffers, loss: u64) -> (Launch, ForwardParams) {
    (
        Launch::one_block(FORWARD_THREADS),
        (b.rows, b.k, b.x, b.t, b.w, b.divisor, b.stats, loss),
    )
}

/// The backward, reading the loss's gradient at `upstream` and adding to the logits' at `grad`.
pub(crate) fn backward(b: XentBuffers, upstream: u64, grad: u64) -> (Launch, BackwardParams) {
    (
        Launch::grid_stride(b.rows * b.k, BACKWARD_THREADS),
        (
            b.rows, b.k, b.x, b.t, b.w, b.divisor, b.stats, upstream, grad,
        ),
    )
}
