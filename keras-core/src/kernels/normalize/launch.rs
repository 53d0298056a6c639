//! The launches of `normalize.cu`'s kernels, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike.

use super::MIN_STD;
use crate::kernels::Launch;

/// Every kernel of `normalize.cu`: the op, then its gradient.
pub(crate) const NAMES: [&str; 2] = ["keras_normalize", "keras_normalize_grad"];

/// Threads per block.
const THREADS: u32 = 256;

/// The forward's parameters: values, features, invert (0 or 1), the smallest standard
/// deviation, then the addresses of `x`, `mean` and `variance` (read) and `y` (written).
pub(crate) type ForwardParams = (usize, usize, u32, f32, u64, u64, u64, u64);

/// The backward's parameters: values, features, invert, the smallest standard deviation, then
/// the addresses of `variance` and the output's gradient (read) and the input's (added to).
pub(crate) type BackwardParams = (usize, usize, u32, f32, u64, u64, u64);

/// The addresses the forward reads and writes.
pub(crate) struct ForwardBuffers {
    /// The input, `n` values.
    pub x: u64,
    /// The per-feature mean, `c` values.
    pub mean: u64,
    /// The per-feature variance, `c` values.
    pub variance: u64,
    /// The output, `n` values.
    pub y: u64,
}

/// The forward over the `n` values of `(n / c, c)` rows.
pub(crate) fn forward(
    n: usize,
    c: usize,
    invert: bool,
    at: ForwardBuffers,
) -> (Launch, ForwardParams) {
    let invert = u32::from(invert);
    let min_std = MIN_STD as f32;
    (
        Launch::grid_stride(n, THREADS),
        (n, c, invert, min_std, at.x, at.mean, at.variance, at.y),
    )
}

/// The backward over the `n` values: the output's gradient at `g`, scaled per feature, added
/// to the input's at `gx`.
pub(crate) fn backward(
    n: usize,
    c: usize,
    invert: bool,
    variance: u64,
    g: u64,
    gx: u64,
) -> (Launch, BackwardParams) {
    (
        Launch::grid_stride(n, THREADS),
        (n, c, u32::from(invert), MIN_STD as f32, variance, g, gx),
    )
}
