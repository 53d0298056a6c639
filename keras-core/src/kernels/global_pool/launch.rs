//! The launches of `global_pool.cu`'s kernels, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike.

use crate::kernels::Launch;

/// Every kernel of `global_pool.cu`: the pooling, then its gradient.
pub(crate) const NAMES: [&str; 2] = ["keras_global_avg_pool", "keras_global_avg_pool_grad"];

/// Threads per block.
const THREADS: u32 = 256;

/// The parameters of either kernel: rows, steps, channels, then the input's and the output's
/// addresses (forward: `x` read, `y` written; backward: the output's gradient read, the
/// input's added to).
pub(crate) type GlobalPoolParams = (usize, usize, usize, u64, u64);

/// The forward over the `rows · c` outputs of a `(rows, steps, c)` input at `x`, into `y`.
pub(crate) fn forward(
    rows: usize,
    steps: usize,
    c: usize,
    x: u64,
    y: u64,
) -> (Launch, GlobalPoolParams) {
    (
        Launch::grid_stride(rows * c, THREADS),
        (rows, steps, c, x, y),
    )
}

/// The backward over the `rows · steps · c` input values: the output's gradient at `g` added,
/// divided by `steps`, to the input's at `gx`.
pub(crate) fn backward(
    rows: usize,
    steps: usize,
    c: usize,
    g: u64,
    gx: u64,
) -> (Launch, GlobalPoolParams) {
    (
        Launch::grid_stride(rows * steps * c, THREADS),
        (rows, steps, c, g, gx),
    )
}
