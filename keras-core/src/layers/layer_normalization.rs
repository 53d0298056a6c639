//! Keras's `LayerNormalization` layer (last axis).

use dfdx::nn::tensor_collection::{ModuleVisitor, ScalarOptions, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Const, Dim, Dtype, HasShape, Rank1, Shape};
use dfdx::tensor::{Cpu, Storage, Tape, Tensor};
use dfdx::tensor_ops::{Device, ReshapeTo};

use super::initializers::{ones, zeros};
use super::weights::{check_len, copy_f32};
use crate::kernels::LayerNormKernel;
use crate::Result;

/// Keras's `LayerNormalization()` over the last axis of `M` features:
/// `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`, with the per-sample mean and biased
/// variance of the last axis.
///
/// Parameters `gamma` (ones) and `beta` (zeros), both trainable: `2 * M` parameters, as Keras.
/// Training and inference compute the same thing. Inputs `(batch, M)` or `(batch, steps, M)`.
/// `epsilon` is a hyperparameter: Keras's default when built, carried through device moves and
/// conversions, and recorded in checkpoints, so that a file saved with another one is refused.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::LayerNormalization;
///
/// let dev = Cpu::default();
/// let ln = dev.build_module::<LayerNormalization<2>, f64>();
/// let x: Tensor<(usize, Const<2>), f64, _> = dev.tensor_from_vec(vec![1.0, 3.0], (1, Const));
/// let y = ln.forward(x).as_vec();
/// assert!((y[0] + 1.0 / (1.0f64 + 1e-3).sqrt()).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct LayerNormalization<const M: usize, E: Dtype = f32, D: Storage<E> = Cpu> {
    /// Scale, trainable. Keras initialises it to ones.
    pub gamma: Tensor<Rank1<M>, E, D>,
    /// Offset, trainable. Keras initialises it to zeros.
    pub beta: Tensor<Rank1<M>, E, D>,
    /// Added to the variance before the square root. Defaults to `1e-3`.
    pub epsilon: f64,
}

impl<const M: usize, E: Dtype, D: Device<E>> LayerNormalization<M, E, D> {
    /// Loads Keras weights: `gamma` and `beta`, each `[M]`, checked before anything is written.
    pub fn set_weights(&mut self, gamma: &[f32], beta: &[f32]) -> Result<()> {
        let layout = format!("[{M}]");
        check_len(&self.gamma, "gamma", &layout, gamma)?;
        check_len(&self.beta, "beta", &layout, beta)?;
        copy_f32(&mut self.gamma, gamma);
        copy_f32(&mut self.beta, beta);
        Ok(())
    }
}

impl<const M: usize, E: Dtype, D: Storage<E>> NonMutableModule for LayerNormalization<M, E, D> {}

impl<const M: usize, E1: Dtype, D1: Storage<E1>, E: Dtype, D: Device<E>> BuildOnDevice<D, E>
    for LayerNormalization<M, E1, D1>
where
    LayerNormalization<M, E, D>: BuildModule<D, E>,
{
    type Built = LayerNormalization<M, E, D>;
}

impl<const M: usize, E: Dtype, D: Device<E>> TensorCollection<E, D>
    for LayerNormalization<M, E, D>
{
    type To<E2: Dtype, D2: Device<E2>> = LayerNormalization<M, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "gamma",
                    |s| &s.gamma,
                    |s| &mut s.gamma,
                    TensorOptions::reset_with(ones),
                ),
                Self::tensor(
                    "beta",
                    |s| &s.beta,
                    |s| &mut s.beta,
                    TensorOptions::reset_with(zeros),
                ),
                Self::scalar(
                    "epsilon",
                    |s| &s.epsilon,
                    |s| &mut s.epsilon,
                    ScalarOptions::from_default(1e-3),
                ),
            ),
            |(gamma, beta, epsilon)| LayerNormalization {
                gamma,
                beta,
                epsilon,
            },
        )
    }
}

/// `Module` for one input layout: the rows of the last axis go to the device's op
/// ([`LayerNormKernel`]: one op on `Cpu` and `Cuda` in `f32`, dfdx's ops in `f64`), through a
/// reshape to `(rows, M)` and back (free for the row-major batches a model passes).
macro_rules! layer_norm_layout {
    ([$($d:ident),*]) => {
        impl<B: Dim, $($d: Dim,)* const M: usize, E: Dtype, D: LayerNormKernel<E>, T: Tape<E, D>>
            Module<Tensor<(B, $($d,)* Const<M>), E, D, T>> for LayerNormalization<M, E, D>
        {
            type Output = Tensor<(B, $($d,)* Const<M>), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                x: Tensor<(B, $($d,)* Const<M>), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                let shape = *x.shape();
                let rows = shape.num_elements() / M.max(1);
                let x = x.try_reshape_like(&(rows, Const::<M>))?;
                D::try_layer_norm(x, &self.gamma, &self.beta, self.epsilon)?
                    .try_reshape_like(&shape)
            }
        }
    };
}

layer_norm_layout!([]);
layer_norm_layout!([L]);

#[cfg(test)]
mod tests {
    use super::LayerNormalization;
    use dfdx::prelude::*;

    #[test]
    fn layer_norm_normalises_each_sample_then_scales() {
        let dev = Cpu::default();
        let mut ln = dev.build_module::<LayerNormalization<3>, f64>();
        assert_eq!(ln.num_trainable_params(), 6);
        ln.set_weights(&[1.0, 2.0, 3.0], &[0.0, 0.0, 1.0]).unwrap();
        let x: Tensor<(usize, Const<3>), f64, _> =
            dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 0.0, 0.0, 6.0], (2, Const));
        let y = ln.forward(x).as_vec();
        let s = (2.0f64 / 3.0 + 1e-3).sqrt();
        let want0 = [-1.0 / s, 0.0, 3.0 / s + 1.0];
        for (a, b) in y[..3].iter().zip(want0) {
            assert!((a - b).abs() < 1e-12);
        }
        let s = (8.0f64 + 1e-3).sqrt();
        assert!((y[5] - (4.0 / s * 3.0 + 1.0)).abs() < 1e-12);
    }

    #[test]
    fn layer_norm_accepts_sequences() {
        let dev = Cpu::default();
        let ln = dev.build_module::<LayerNormalization<2>, f32>();
        let x: Tensor<(usize, usize, Const<2>), f32, _> = dev.zeros_like(&(3, 5, Const));
        assert_eq!(ln.forward(x).shape(), &(3, 5, Const::<2>));
    }
}
