//! `Conv2D`'s convolution and `MaxPooling2D`'s pooling (channels-last), one kernel per device
//! behind one trait.
//!
//! - [`ConvKernel`]: the device's convolution (`epilogue(conv(x, kernel) + bias)`) and max
//!   pooling, on a tape, following dfdx's pattern of a kernel trait implemented per device and
//!   dtype.
//!   - `Cpu` in `f32` (`cpu_kernel`): one op each on dfdx's tape. The convolution packs each
//!     block of images' windows (im2col, `geometry`) into a buffer the size of the core's cache
//!     and multiplies it straight away with `gemm`'s kernels, bias and ReLU folded into the
//!     product's stores; blocks of images run on rayon's threads. Short windows (a first layer
//!     on one-channel images) skip the packing and the product (`direct`; with AVX-512 and no
//!     padding, `direct_avx512` keeps the window's filters in registers). Its backward recomputes the
//!     windows block by block (the whole column matrix is never held) and scatters the input
//!     gradient back from each block (col2im). Max pooling reads each window once, forward and
//!     backward, with no index tensors.
//!   - `Cpu` in `f64` and `Cuda` (`cuda_kernel`) in `f32` and `f64`: dfdx's ops over gathered
//!     windows (`with_ops`), their product `Dense`'s kernel on the device.

mod conv_kernel;
mod cpu_conv;
mod cpu_conv_pool;
mod cpu_kernel;
mod cpu_max_pool;
#[cfg(feature = "cuda")]
mod cuda_kernel;
mod direct;
mod direct_avx512;
mod geometry;
mod wide;
mod with_ops;

pub use conv_kernel::{ConvKernel, Images};
