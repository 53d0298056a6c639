//! The launches of `activation.cu`'s kernels, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike.

use super::Activation;
use crate::kernels::Launch;

/// Every kernel of `activation.cu`: the activation, then its gradient.
pub(crate) const NAMES: [&str; 2] = ["keras_activation", "keras_activation_grad"];

/// Threads per block.
const THREADS: u32 = 256;

/// The forward's parameters: values, the form's code, its parameter, then the addresses of `x`
/// (read) and `y` (written).
pub(crate) type ForwardParams = (usize, u32, f32, u64, u64);

/// The backward's parameters: values, the form's code, its parameter, then the addresses of `x`
/// and the output's gradient (read) and the input's (added to).
pub(crate) type BackwardParams = (usize, u32, f32, u64, u64, u64);

/// `activation.cu`'s code for `f` and its parameter (0 where it has none).
fn code(f: Activation) -> (u32, f32) {
    match f {
        Activation::Elu { alpha } => (0, alpha as f32),
        Activation::LeakyRelu { negative_slope } => (1, negative_slope as f32),
        Activation::Gelu => (2, 0.0),
        Activation::Swish => (3, 0.0),
        Activation::Softplus => (4, 0.0),
    }
}

/// The forward over the `n` values at `x`, into `y`.
pub(crate) fn forward(n: usize, f: Activation, x: u64, y: u64) -> (Launch, ForwardParams) {
    let (form, a) = code(f);
    (Launch::grid_stride(n, THREADS), (n, form, a, x, y))
}

/// The backward over the `n` values: `f'(x) · g` added to the input's gradient at `gx`.
pub(crate) fn backward(
    n: usize,
    f: Activation,
    x: u64,
    g: u64,
    gx: u64,
) -> (Launch, BackwardParams) {
    let (form, a) = code(f);
    (Launch::grid_stride(n, THREADS), (n, form, a, x, g, gx))
}
