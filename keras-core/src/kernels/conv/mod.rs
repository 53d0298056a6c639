//! `Conv2D`'s convolution and `MaxPooling2D`'s and `AveragePooling2D`'s pooling
//! (channels-last), one kernel per device behind one trait.
//!
//! - [`ConvKernel`]: the device's convolution (`epilogue(conv(x, kernel) + bias)`), max pooling
//!   and average pooling, on a tape, following dfdx's pattern of a kernel trait implemented per device and
//!   dtype.
//!   - `Cpu` in `f32` (`cpu_kernel`): one op each on dfdx's tape. The convolution packs each
//!     block of images' windows (im2col, `geometry`) into a buffer the size of the core's cache
//!     and multiplies it straight away with `gemm`'s kernels, bias and ReLU folded into the
//!     product's stores; blocks of images run on rayon's threads. Short windows (a first layer
//!     on one-channel images) skip the packing and the product (`direct`; with AVX-512 and no
//!     padding, `direct_avx512` keeps the window's filters in registers). Its backward
//!     recomputes the windows block by block (the whole column matrix is never held) and
//!     scatters the input gradient back from each block (col2im). Max and average pooling read
//!     each window once, forward and backward, with no index tensors.
//!   - `Cuda` in `f32` (`cuda_kernel`): one op each on the tape. The convolution gathers the
//!     windows (`conv.cu`, im2col) into a temporary and runs `Dense`'s fused op on `Cuda` on them
//!     (cuBLAS's product, the bias and ReLU in one kernel); its backward gathers them again,
//!     runs `Dense`'s backward and adds the windows' gradient onto the input's, each input value
//!     summing the entries that read it (col2im as a gather: no atomics). Max and average
//!     pooling are one kernel each way, with no index tensors. Planned in `launch.rs` for the
//!     `Cuda` launcher and the CPU emulation (`emulated.rs` checks the plans against the CPU's
//!     ops).
//!   - `Cpu` and `Cuda` in `f64`: dfdx's ops over gathered windows (`with_ops`), their product
//!     `Dense`'s kernel on the device.

mod conv_kernel;
mod cpu_avg_pool;
mod cpu_conv;
mod cpu_conv_pool;
mod cpu_kernel;
mod cpu_max_pool;
#[cfg(feature = "cuda")]
mod cuda_kernel;
mod direct;
mod direct_avx512;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
mod geometry;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod pooling;
mod wide;
mod with_ops;

pub use conv_kernel::{ConvKernel, Images};
