//! `Dense` on `Cuda`: dfdx's ops (cuBLAS's product, then the bias and the ReLU as dfdx's
//! kernels), in `f32` and `f64`.

use super::with_ops::dense_kernel_with_ops;

dense_kernel_with_ops!(dfdx::tensor::Cuda: f32, f64);
