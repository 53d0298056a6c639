//! What follows the product `x · kernel` inside a `Dense` op.

/// What follows the product `x · kernel` inside a fused `Dense` op.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{try_dense, Epilogue};
///
/// let dev = Cpu::default();
/// let kernel: Tensor<Rank2<1, 1>, f32, _> = dev.tensor([[1.0]]);
/// let bias: Tensor<Rank1<1>, f32, _> = dev.tensor([-1.0]);
/// let x = || dev.tensor_from_vec(vec![0.5f32], (1usize, Const::<1>));
/// assert_eq!(try_dense(x(), &kernel, &bias, Epilogue::Bias)?.as_vec(), [-0.5]);
/// assert_eq!(try_dense(x(), &kernel, &bias, Epilogue::BiasRelu)?.as_vec(), [0.0]);
/// # Ok::<(), CpuError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Epilogue {
    /// `x · kernel + bias`.
    Bias,
    /// `relu(x · kernel + bias)`, with gradient 0 at 0 as Keras and dfdx.
    BiasRelu,
}
