//! `Dense`'s product `epilogue(x · kernel + bias)`, one kernel per device behind one trait.
//!
//! - [`DenseKernel`]: the device's product, on a tape, following dfdx's pattern of a kernel trait
//!   implemented per device and dtype. [`try_dense`] is its generic entry point.
//!   - `Cpu` in `f32` (`cpu_kernel`): one fused op on dfdx's tape, bias and ReLU folded into the
//!     product's stores, the backward's products written straight into dfdx's gradients.
//!   - `Cuda` in `f32` (`cuda_kernel`): one fused op on dfdx's tape, cuBLAS's products on
//!     dfdx's handle and `dense.cu`'s kernels for the bias and ReLU (forward) and the ReLU mask
//!     and bias gradient (backward), planned in `launch.rs` for the `Cuda` launcher and the CPU
//!     emulation (`emulated.rs` checks the plan against the CPU's fused op).
//!   - `Cpu` and `Cuda` in `f64`: dfdx's own ops ([`dense_with_ops`]).
//! - [`Epilogue`]: what follows the product inside the op (the bias, then an optional ReLU).
//! - [`DenseActivation`]: how a layer's activation meets the product; `ReLU` folds into the
//!   epilogue, every other activation runs after it.
//! - [`mark_data_input`]: marks a batch as data, so the fused op skips the gradient with respect
//!   to it.

mod activation;
mod cpu_kernel;
#[cfg(feature = "cuda")]
pub(crate) mod cuda_kernel;
mod data_input;
mod dense_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
mod epilogue;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
pub(crate) mod launch;
mod with_ops;

pub(crate) use activation::try_dense_activated;
pub use activation::DenseActivation;
pub(crate) use data_input::is_data_input;
pub use data_input::mark_data_input;
pub use dense_kernel::{try_dense, DenseKernel};
pub use epilogue::Epilogue;
pub use with_ops::dense_with_ops;
