//! Keras's `Dense` layer.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Dtype, Rank1, Rank2};
use dfdx::tensor::{Cpu, Storage, Tensor};
use dfdx::tensor_ops::Device;
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

use super::activations::Linear;
use super::dense_input::DenseLayer;
use super::initializers::{glorot_uniform, zeros};
use super::weights::{check_len, copy_f32};
use crate::Result;

/// Keras's `Dense(units=O, activation=A)` on inputs with `I` features: `A(x · kernel + bias)`.
///
/// - `kernel` is stored in **Keras's layout `[in, out]`** (`Rank2<I, O>`), so Keras's
///   `layer.get_weights()[0]` loads without transposing (dfdx's own `Linear` stores `[out, in]`).
/// - Keras defaults: `glorot_uniform` kernel (`limit = sqrt(6 / (I + O))`), zero bias,
///   activation [`Linear`] (`None`). Parameters are named `kernel` and `bias`.
/// - Inputs are `(batch, I)` with any batch dimension (a runtime `usize` for partial batches) or
///   `(batch, steps, I)`; any tape, so it runs for inference (`NoneTape`) and training
///   (`OwnedTape`, through [`ModuleMut`](dfdx::nn::ModuleMut), which equals the forward).
/// - `A` is any activation layer with `Default` ([`ReLU`](super::ReLU), [`Softmax`](super::Softmax),
///   ...; on `(batch, I)` inputs one with [`DenseActivation`](crate::kernels::DenseActivation)); it is rebuilt with `Default` when
///   the layer is built or converted.
///
/// - On `(batch, I)` inputs the affine map is one op, the device's
///   [`DenseKernel`](crate::kernels::DenseKernel) ([`try_dense`](crate::kernels::try_dense)): on `Cpu` in
///   `f32` a fused kernel (bias, and a [`ReLU`](super::ReLU) activation, folded into one `gemm`
///   0.19 product, AVX-512 where the CPU has it; no input gradient for a batch marked with
///   [`mark_data_input`](crate::kernels::mark_data_input)), elsewhere dfdx's ops.
///
/// Build it with `dev.build_module::<Dense<I, O, A>, E>()` (the type doubles as its own builder
/// for any dtype and device) or `Dense::<I, O, A, E, D>::build(&dev)`.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{Dense, ReLU};
///
/// let dev = Cpu::seed_from_u64(0);
/// let mut layer = dev.build_module::<Dense<2, 3, ReLU>, f32>();
/// assert_eq!(layer.num_trainable_params(), 9);
/// layer.set_weights(&[1.0, 0.0, -1.0, 0.0, 1.0, 1.0], &[0.0, 0.5, 0.0])?;
/// let x = dev.tensor_from_vec(vec![1.0f32, 2.0], (1usize, Const::<2>));
/// let y = layer.forward(x);
/// assert_eq!(y.as_vec(), vec![1.0, 2.5, 1.0]);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Dense<const I: usize, const O: usize, A = Linear, E: Dtype = f32, D: Storage<E> = Cpu> {
    /// Weight matrix in Keras layout `[in, out]`.
    pub kernel: Tensor<Rank2<I, O>, E, D>,
    /// Bias vector `[out]`.
    pub bias: Tensor<Rank1<O>, E, D>,
    /// The activation applied after the affine map.
    pub activation: A,
}

impl<const I: usize, const O: usize, A, E: Dtype, D: Device<E>> Dense<I, O, A, E, D> {
    /// Loads Keras weights: `kernel` row-major `[I, O]` (Keras's `get_weights()[0]`, no
    /// transpose) and `bias` `[O]`. Both lengths are checked before anything is written.
    pub fn set_weights(&mut self, kernel: &[f32], bias: &[f32]) -> Result<()> {
        check_len(
            &self.kernel,
            "kernel",
            &format!("[in, out] = [{I}, {O}]"),
            kernel,
        )?;
        check_len(&self.bias, "bias", &format!("[out] = [{O}]"), bias)?;
        copy_f32(&mut self.kernel, kernel);
        copy_f32(&mut self.bias, bias);
        Ok(())
    }
}

impl<const I: usize, const O: usize, A, E: Dtype, D: Storage<E>> NonMutableModule
    for Dense<I, O, A, E, D>
{
}

impl<const I: usize, const O: usize, A, E1, D1, E, D> BuildOnDevice<D, E> for Dense<I, O, A, E1, D1>
where
    E1: Dtype,
    D1: Storage<E1>,
    E: Dtype,
    D: Device<E>,
    Dense<I, O, A, E, D>: BuildModule<D, E>,
{
    type Built = Dense<I, O, A, E, D>;
}

impl<const I: usize, const O: usize, A, E, D> TensorCollection<E, D> for Dense<I, O, A, E, D>
where
    A: Default,
    E: Dtype + Float + SampleUniform,
    D: Device<E>,
{
    type To<E2: Dtype, D2: Device<E2>> = Dense<I, O, A, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "kernel",
                    |s| &s.kernel,
                    |s| &mut s.kernel,
                    TensorOptions::reset_with(glorot_uniform),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(zeros),
                ),
            ),
            |(kernel, bias)| Dense {
                kernel,
                bias,
                activation: A::default(),
            },
        )
    }
}

impl<X, const I: usize, const O: usize, A, E: Dtype, D: Storage<E>> Module<X>
    for Dense<I, O, A, E, D>
where
    Self: DenseLayer<X>,
{
    type Output = <Self as DenseLayer<X>>::Output;
    type Error = <Self as DenseLayer<X>>::Error;

    /// [`DenseLayer::try_dense`].
    fn try_forward(&self, x: X) -> Result<Self::Output, Self::Error> {
        self.try_dense(x)
    }
}

#[cfg(test)]
mod tests {
    use super::{Dense, Linear};
    use crate::layers::ReLU;
    use crate::Error;
    use dfdx::prelude::*;

    #[test]
    fn dense_counts_parameters_as_keras() {
        let dev = Cpu::default();
        assert_eq!(
            dev.build_module::<Dense<4, 8, ReLU>, f32>()
                .num_trainable_params(),
            40
        );
        assert_eq!(
            dev.build_module::<Dense<8, 3>, f64>()
                .num_trainable_params(),
            27
        );
    }

    #[test]
    fn dense_initialises_glorot_uniform_kernel_and_zero_bias() {
        let dev = Cpu::seed_from_u64(0);
        let d = Dense::<30, 20, Linear, f64, Cpu>::build(&dev);
        let limit = (6.0f64 / 50.0).sqrt();
        let k = d.kernel.as_vec();
        assert!(k.iter().all(|w| w.abs() <= limit));
        assert!(k.iter().any(|w| w.abs() > 0.8 * limit));
        assert!(d.bias.as_vec().iter().all(|&b| b == 0.0));
    }

    #[test]
    fn dense_computes_x_kernel_plus_bias_in_keras_layout() {
        let dev = Cpu::default();
        let mut d = dev.build_module::<Dense<3, 2>, f64>();
        // kernel [[1, 2], [3, 4], [5, 6]] as Keras stores it, [in, out].
        d.set_weights(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[0.5, -0.5])
            .unwrap();
        let x: Tensor<(usize, Const<3>), f64, _> =
            dev.tensor_from_vec(vec![1.0, 0.0, -1.0, 2.0, 1.0, 0.0], (2, Const));
        let y = d.forward(x);
        assert_eq!(y.as_vec(), vec![-3.5, -4.5, 5.5, 7.5]);
    }

    #[test]
    fn set_weights_rejects_wrong_lengths_without_writing() {
        let dev = Cpu::default();
        let mut d = dev.build_module::<Dense<3, 2>, f32>();
        let before = d.kernel.as_vec();
        let err = d.set_weights(&[0.0; 6], &[0.0; 3]).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { name: "bias", .. }));
        assert_eq!(d.kernel.as_vec(), before);
        let err = d.set_weights(&[0.0; 5], &[0.0; 2]).unwrap_err();
        assert!(matches!(err, Error::ShapeMismatch { name: "kernel", .. }));
    }

    #[test]
    fn dense_applies_its_activation_and_accepts_sequences() {
        let dev = Cpu::default();
        let mut d = dev.build_module::<Dense<2, 1, ReLU>, f32>();
        d.set_weights(&[1.0, -1.0], &[0.0]).unwrap();
        let x: Tensor<(usize, usize, Const<2>), f32, _> =
            dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 1.0], (1, 2, Const));
        assert_eq!(d.forward(x).as_vec(), vec![0.0, 2.0]);
    }
}
