//! Keras's element-wise activations that dfdx has no single op for (`ELU`, `LeakyReLU`, exact
//! `GELU`, `swish`/`silu`, `softplus`), one op on dfdx's tape per device, following dfdx's
//! pattern of a kernel trait implemented per device and dtype.
//!
//! - [`ActivationKernel`] and [`try_activation`]: the activation an [`Activation`] names, on
//!   any shape; its backward adds `f'(x) · g` to the input's gradient.
//!   - `Cpu` in `f32` and `f64` (`cpu_kernel`, `math.rs`): values on rayon's threads.
//!   - `Cuda` in `f32` (`cuda_kernel`, `activation.cu`): one kernel each way, the CPU op's
//!     formulas; the transcendental functions are CUDA's (`expf`, `expm1f`, `erff`, `log1pf`),
//!     within a few ulp of the CPU's.
//!   - `Cuda` in `f64`, and views that are not row-major: chains of dfdx's ops
//!     ([`activation_with_ops`]), the layers' arithmetic before this op.
//! - `launch.rs` plans the CUDA launches for `cuda_kernel.rs` and the CPU emulation
//!   (`emulated.rs` checks the kernels against the CPU op).
//!
//! Before this op, each of these layers was a chain of 2 to 9 of dfdx's element-wise ops, each
//! with its own buffer and backward (on `Cuda`, its own launch each way).

mod activation_kernel;
mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod math;
mod with_ops;

#[cfg(test)]
pub(crate) use activation_kernel::EVERY_FORM;
pub use activation_kernel::{try_activation, Activation, ActivationKernel};
pub use with_ops::activation_with_ops;
