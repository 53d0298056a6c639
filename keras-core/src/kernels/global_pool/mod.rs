//! Keras's global average pooling (`GlobalAveragePooling1D` over steps, `GlobalAveragePooling2D`
//! over height and width), one op on dfdx's tape per device, following dfdx's pattern of a
//! kernel trait implemented per device and dtype.
//!
//! - [`GlobalPoolKernel`] and [`try_global_avg_pool`]: the mean over the middle axis of a
//!   `(batch, steps, C)` tensor (an image's pixels are its steps), and its backward (the
//!   output's gradient divided by the steps, added to each step's).
//!   - `Cpu` in `f32` (`cpu_kernel`): batch rows on rayon's threads, each channel summed over
//!     the steps in order.
//!   - `Cuda` in `f32` (`cuda_kernel`, `global_pool.cu`): one kernel each way, the same sums in
//!     the same order, so the same bits as the CPU op. dfdx's mean ends in `atomicAdd` on
//!     `Cuda`, so it could differ in the last bits between two runs.
//!   - `f64` on both: dfdx's mean ([`global_avg_pool_with_ops`]).
//! - `launch.rs` plans the CUDA launches for `cuda_kernel.rs` and the CPU emulation
//!   (`emulated.rs` checks the kernels against the CPU op).

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
mod global_pool_kernel;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod with_ops;

pub use global_pool_kernel::{try_global_avg_pool, GlobalPoolKernel, Pooled, Steps};
pub use with_ops::global_avg_pool_with_ops;
