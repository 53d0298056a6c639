//! `Conv2D` and `MaxPooling2D` on `Cuda`: dfdx's ops over gathered windows (cuBLAS's product,
//! dfdx's reductions), in `f32` and `f64`.

use super::with_ops::conv_kernel_with_ops;

conv_kernel_with_ops!(dfdx::tensor::Cuda, host: false; f32, f64);
