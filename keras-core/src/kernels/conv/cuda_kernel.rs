//! `Conv2D` and `MaxPooling2D` on `Cuda`: dfdx's ops over gathered windows (the product is
//! `Dense`'s kernel on `Cuda`: fused in `f32`, dfdx's in `f64`; dfdx's reductions), in `f32` and
//! `f64`.

use super::with_ops::conv_kernel_with_ops;

conv_kernel_with_ops!(dfdx::tensor::Cuda, host: false; f32, f64);
