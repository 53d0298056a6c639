//! Keras's `Normalization` preprocessing layer's arithmetic (`(x - mean) / max(sqrt(variance),
//! 1e-7)`, or its inverse `x · max(sqrt(variance), 1e-7) + mean`), one op on dfdx's tape per
//! device, following dfdx's pattern of a kernel trait implemented per device and dtype.
//!
//! - [`NormalizeKernel`] and [`try_normalize`]: the op on `(rows, C)` features with a
//!   per-feature mean and variance, which are constants (no gradient). Its backward adds the
//!   output's gradient, scaled per feature, to the input's, and nothing for a batch marked with
//!   [`mark_data_input`](crate::kernels::mark_data_input): `Normalization` is usually a
//!   model's first layer, so a training step usually spends nothing on its backward.
//!   - `Cpu` in `f32` (`cpu_kernel`): rows on rayon's threads.
//!   - `Cuda` in `f32` (`cuda_kernel`, `normalize.cu`): one kernel each way, the same
//!     arithmetic as the CPU op (no fused multiply-add, IEEE square root and division), so the
//!     same bits.
//!   - `f64` on both: dfdx's ops ([`normalize_with_ops`]). Before this op, every dtype took
//!     these six ops (square root, clamp, two broadcasts, two element-wise ops) and gave the
//!     statistics a gradient nobody read.
//! - `launch.rs` plans the CUDA launches for `cuda_kernel.rs` and the CPU emulation
//!   (`emulated.rs` checks the kernels against the CPU op).

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod normalize_kernel;
mod with_ops;

pub use normalize_kernel::{try_normalize, NormalizeKernel, MIN_STD};
pub use with_ops::normalize_with_ops;
