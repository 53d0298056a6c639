//! The softmax crossentropy of a batch of logits reduced to the loss (Keras's categorical and
//! sparse categorical crossentropy from logits, the labels as dense rows), one op on dfdx's tape
//! per device, following dfdx's pattern of a kernel trait implemented per device.
//!
//! - [`SoftmaxCrossentropyKernel`] and [`try_softmax_crossentropy`]: `sum(w · -sum(t · log
//!   softmax(x))) / divisor` with its gradient `w / divisor · (softmax(x) · sum(t) - t)`.
//!   - `Cpu` (`cpu_kernel`): one pass over the rows forward, one over the elements backward.
//!   - `Cuda` (`cuda_kernel`, `crossentropy.cu`): one kernel forward (one block, the rows' sum
//!     in a fixed-order tree), one backward; dfdx's ops take about ten each way.
//!   - Both fall back to dfdx's ops ([`softmax_crossentropy_with_ops`]) for views that are not
//!     row-major and for empty batches.
//! - [`reduce_with_ops`]: Keras's reduction of per-row losses with dfdx's ops (the other
//!   losses' device form).
//! - `launch.rs` plans the CUDA launches for `cuda_kernel.rs` and the CPU emulation
//!   (`emulated.rs` checks the kernels against the CPU's).

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod with_ops;
mod xent_kernel;

pub use with_ops::{reduce_with_ops, softmax_crossentropy_with_ops};
pub use xent_kernel::{try_softmax_crossentropy, SoftmaxCrossentropyKernel};
