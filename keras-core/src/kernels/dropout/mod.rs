//! Keras's inverted dropout with a counter-based mask, one op on dfdx's tape per device,
//! following dfdx's pattern of a kernel trait implemented per device.
//!
//! - [`DropoutMask`]: which elements a call keeps, from its seed and each element's index
//!   (SplitMix64's stream), the same on every device.
//! - [`DropoutMaskKernel`] and [`try_masked_dropout`]: the op, forward and backward.
//!   - `Cpu` (`cpu_kernel`): blocks of elements on rayon's threads.
//!   - `Cuda` (`cuda_kernel`, `dropout.cu`): one kernel each way.
//! - `launch.rs` plans the CUDA launches for `cuda_kernel.rs` and the CPU emulation
//!   (`emulated.rs` checks the kernels against [`DropoutMask`] and the CPU op).

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
mod dropout_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod mask;

pub(crate) use dropout_kernel::{row_major, KeepProbability};
pub use dropout_kernel::{try_masked_dropout, DropoutMaskKernel};
pub use mask::DropoutMask;
