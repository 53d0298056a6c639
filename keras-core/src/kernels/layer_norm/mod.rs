//! Keras's layer normalization over the last axis, one op on dfdx's tape per device, following
//! dfdx's pattern of a kernel trait implemented per device and dtype.
//!
//! - [`LayerNormKernel`] and [`try_layer_norm`]: `y = (x - mean) / sqrt(var + epsilon) · gamma +
//!   beta` per row of a `(rows, M)` batch, with its backward (the input's, `gamma`'s and
//!   `beta`'s gradients).
//!   - `Cpu` in `f32` (`cpu_kernel`, arithmetic in `rows.rs`): rows on rayon's threads, each
//!     row's mean and reciprocal deviation kept for the backward.
//!   - `Cuda` in `f32` (`cuda_kernel`, `layer_norm.cu`): one block per row forward and for the
//!     input's gradient, one kernel for `gamma`'s and `beta`'s (blocks of columns and rows,
//!     summed in a fixed order), planned in `launch.rs` for the `Cuda` launcher and the CPU
//!     emulation (`emulated.rs` checks the plan against the CPU op).
//!   - `f64` on both: dfdx's ops ([`layer_norm_with_ops`]), about ten ops each way.

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod layer_norm_kernel;
mod rows;
mod with_ops;

pub use layer_norm_kernel::{try_layer_norm, LayerNormKernel, Rows};
pub use with_ops::layer_norm_with_ops;
