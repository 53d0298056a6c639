//! Keras's batch normalization over the last axis, one op on dfdx's tape per device, following
//! dfdx's pattern of a kernel trait implemented per device and dtype.
//!
//! - [`BatchNormKernel`]: `y = (x - mean) · gamma / sqrt(var + epsilon) + beta` per feature of a
//!   `(rows, C)` batch, in training (the batch's mean and biased variance, the gradient through
//!   them, and the moving statistics' update, [`Moving`]) and in inference (the moving
//!   statistics, which get no gradient).
//!   - `Cpu` in `f32` (`cpu_kernel`, arithmetic in `columns.rs`): the per-feature sums over
//!     fixed blocks of rows on rayon's threads, added in block order.
//!   - `Cuda` in `f32` (`cuda_kernel`, `batch_norm.cu`): the per-feature sums by blocks of
//!     columns and rows, each finished in a fixed order by a small kernel that also derives the
//!     statistics (and updates the moving ones), then one elementwise kernel each way; planned in
//!     `launch.rs` for the `Cuda` launcher and the CPU emulation (`emulated.rs` checks the plans
//!     against the CPU op).
//!   - `f64` on both: dfdx's ops ([`batch_norm_train_with_ops`], [`batch_norm_infer_with_ops`]).

mod batch_norm_kernel;
mod columns;
mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod with_ops;

pub use batch_norm_kernel::{BatchNormKernel, Moving};
pub use with_ops::{batch_norm_infer_with_ops, batch_norm_train_with_ops};
