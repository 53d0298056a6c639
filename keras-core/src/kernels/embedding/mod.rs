//! Keras's `Embedding` on float-coded token ids (the trainer's batches), one op on dfdx's tape
//! per device, following dfdx's pattern of a kernel trait implemented per device.
//!
//! - [`EmbeddingKernel`] and [`try_embedding_lookup`]: the rows of the table at the ids,
//!   forward, and the output's gradient added to those rows, backward; an id that is not an
//!   integer in `0..V` reads (and trains) row 0, as the layer has always looked it up, and the
//!   layer reports it ([`first_bad_id`]) before the step changes anything.
//!   - `Cpu` (`cpu_kernel`): rows copied on rayon's threads; the backward adds in position
//!     order, as dfdx's gather did.
//!   - `Cuda` (`cuda_kernel`, `embedding.cu`): one kernel each way, on the ids where they are
//!     (the uploaded batch): nothing is copied back to the host or uploaded again.
//! - `launch.rs` plans the CUDA launches for `cuda_kernel.rs` and the CPU emulation
//!   (`emulated.rs` checks the kernels against the CPU op).

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
mod embedding_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
mod ids;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;

pub use embedding_kernel::{try_embedding_lookup, EmbeddingKernel};
pub use ids::{first_bad_id, row_of};
