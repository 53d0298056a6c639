//! Keras's `BatchNormalization` layer (axis -1).

use dfdx::nn::tensor_collection::{ModuleVisitor, ScalarOptions, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, ModuleMut};
use dfdx::shapes::{Const, Dim, Dtype, HasShape, Rank1, Shape};
use dfdx::tensor::{Cpu, NoneTape, OwnedTape, Storage, Tape, Tensor};
use dfdx::tensor_ops::{Device, ReshapeTo};

use super::initializers::{ones, zeros};
use super::weights::{check_len, copy_f32};
use crate::kernels::{BatchNormKernel, Moving};
use crate::Result;

/// Keras's `BatchNormalization()` over the last axis (`axis=-1`) of `C` features.
///
/// - Training forward ([`ModuleMut`] on an `OwnedTape` input): normalises with the batch mean
///   and the **biased** batch variance, `y = (x - mean) / sqrt(var + epsilon) * gamma + beta`,
///   and updates `moving = moving * momentum + batch * (1 - momentum)` for both moving
///   statistics, as Keras.
/// - Inference ([`Module`] on any tape, and `ModuleMut` on `NoneTape`): uses the moving
///   statistics.
/// - Parameters: `gamma` (ones) and `beta` (zeros) are trainable; `moving_mean` (zeros) and
///   `moving_variance` (ones) are not, so `num_trainable_params() == 2 * C`, as Keras's
///   trainable count (Keras's total is `4 * C`).
/// - Inputs `(batch, C)`, `(batch, steps, C)` or channels-last images `(batch, H, W, C)`.
///
/// `momentum` and `epsilon` are hyperparameters: Keras's defaults when built, carried through
/// device moves and conversions, and recorded in checkpoints (`momentum`, `epsilon`), so that a
/// file saved with other ones is refused; in a derived model
/// `#[layer(momentum = 0.9, epsilon = 1e-5)]` on the field sets them on every build.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::BatchNormalization;
///
/// let dev = Cpu::default();
/// let mut bn = dev.build_module::<BatchNormalization<2>, f64>();
/// assert_eq!(bn.num_trainable_params(), 4);
/// let x: Tensor<(usize, Const<2>), f64, _> = dev.tensor_from_vec(vec![0.0, 10.0, 2.0, 30.0], (2, Const));
/// let y = bn.forward_mut(x.traced(Gradients::leaky()));
/// // batch statistics: each column becomes [-1, 1] (up to epsilon)
/// assert!((y.as_vec()[0] + 1.0).abs() < 1e-3);
/// // moving_mean moved 1% of the way to the batch mean [1, 20]
/// assert!((bn.moving_mean.as_vec()[1] - 0.2).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct BatchNormalization<const C: usize, E: Dtype = f32, D: Storage<E> = Cpu> {
    /// Scale, trainable. Keras initialises it to ones.
    pub gamma: Tensor<Rank1<C>, E, D>,
    /// Offset, trainable. Keras initialises it to zeros.
    pub beta: Tensor<Rank1<C>, E, D>,
    /// Running mean, updated by the training forward. Starts at zeros.
    pub moving_mean: Tensor<Rank1<C>, E, D>,
    /// Running (biased) variance, updated by the training forward. Starts at ones.
    pub moving_variance: Tensor<Rank1<C>, E, D>,
    /// Weight of the old moving statistics in each update. Defaults to `0.99`.
    pub momentum: f64,
    /// Added to the variance before the square root. Defaults to `1e-3`.
    pub epsilon: f64,
}

impl<const C: usize, E: Dtype, D: Device<E>> BatchNormalization<C, E, D> {
    /// Loads Keras weights in `get_weights()` order: `gamma`, `beta`, `moving_mean`,
    /// `moving_variance`, each `[C]`. All lengths are checked before anything is written.
    pub fn set_weights(
        &mut self,
        gamma: &[f32],
        beta: &[f32],
        moving_mean: &[f32],
        moving_variance: &[f32],
    ) -> Result<()> {
        let layout = format!("[{C}]");
        check_len(&self.gamma, "gamma", &layout, gamma)?;
        check_len(&self.beta, "beta", &layout, beta)?;
        check_len(&self.moving_mean, "moving_mean", &layout, moving_mean)?;
        check_len(
            &self.moving_variance,
            "moving_variance",
            &layout,
            moving_variance,
        )?;
        copy_f32(&mut self.gamma, gamma);
        copy_f32(&mut self.beta, beta);
        copy_f32(&mut self.moving_mean, moving_mean);
        copy_f32(&mut self.moving_variance, moving_variance);
        Ok(())
    }

    /// Inference: the moving statistics, through the device's op ([`BatchNormKernel`]) on the
    /// rows of the last axis (a reshape to `(rows, C)` and back, free for the row-major batches
    /// a model passes).
    fn infer<S: Shape, T: Tape<E, D>>(
        &self,
        x: Tensor<S, E, D, T>,
    ) -> Result<Tensor<S, E, D, T>, D::Err>
    where
        D: BatchNormKernel<E>,
    {
        let shape = *x.shape();
        let rows = shape.num_elements() / C.max(1);
        let x = x.try_reshape_like(&(rows, Const::<C>))?;
        D::try_batch_norm_infer(
            x,
            &self.gamma,
            &self.beta,
            &self.moving_mean,
            &self.moving_variance,
            self.epsilon,
        )?
        .try_reshape_like(&shape)
    }

    /// Training: the batch's statistics (biased variance) and the moving statistics' update,
    /// through the device's op as [`infer`](Self::infer).
    fn train<S: Shape, T: Tape<E, D>>(
        &mut self,
        x: Tensor<S, E, D, T>,
    ) -> Result<Tensor<S, E, D, T>, D::Err>
    where
        D: BatchNormKernel<E>,
    {
        let shape = *x.shape();
        let rows = shape.num_elements() / C.max(1);
        let x = x.try_reshape_like(&(rows, Const::<C>))?;
        let moving = Moving {
            mean: &mut self.moving_mean,
            variance: &mut self.moving_variance,
            momentum: self.momentum,
        };
        D::try_batch_norm_train(x, &self.gamma, &self.beta, moving, self.epsilon)?
            .try_reshape_like(&shape)
    }
}

impl<const C: usize, E1: Dtype, D1: Storage<E1>, E: Dtype, D: Device<E>> BuildOnDevice<D, E>
    for BatchNormalization<C, E1, D1>
where
    BatchNormalization<C, E, D>: BuildModule<D, E>,
{
    type Built = BatchNormalization<C, E, D>;
}

impl<const C: usize, E: Dtype, D: Device<E>> TensorCollection<E, D>
    for BatchNormalization<C, E, D>
{
    type To<E2: Dtype, D2: Device<E2>> = BatchNormalization<C, E2, D2>;

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
                Self::tensor(
                    "moving_mean",
                    |s| &s.moving_mean,
                    |s| &mut s.moving_mean,
                    TensorOptions::detached(zeros),
                ),
                Self::tensor(
                    "moving_variance",
                    |s| &s.moving_variance,
                    |s| &mut s.moving_variance,
                    TensorOptions::detached(ones),
                ),
                Self::scalar(
                    "momentum",
                    |s| &s.momentum,
                    |s| &mut s.momentum,
                    ScalarOptions::from_default(0.99),
                ),
                Self::scalar(
                    "epsilon",
                    |s| &s.epsilon,
                    |s| &mut s.epsilon,
                    ScalarOptions::from_default(1e-3),
                ),
            ),
            |(gamma, beta, moving_mean, moving_variance, momentum, epsilon)| BatchNormalization {
                gamma,
                beta,
                moving_mean,
                moving_variance,
                momentum,
                epsilon,
            },
        )
    }
}

/// `Module` (inference) and `ModuleMut` (training with a tape) for one input layout.
macro_rules! batch_norm_layout {
    ([$($d:ident),*]) => {
        impl<B: Dim, $(const $d: usize,)* const C: usize, E: Dtype, D: BatchNormKernel<E>, T: Tape<E, D>>
            Module<Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>> for BatchNormalization<C, E, D>
        {
            type Output = Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                x: Tensor<(B, $(Const<$d>,)* Const<C>), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                self.infer(x)
            }
        }

        impl<B: Dim, $(const $d: usize,)* const C: usize, E: Dtype, D: BatchNormKernel<E>>
            ModuleMut<Tensor<(B, $(Const<$d>,)* Const<C>), E, D, OwnedTape<E, D>>>
            for BatchNormalization<C, E, D>
        {
            type Output = Tensor<(B, $(Const<$d>,)* Const<C>), E, D, OwnedTape<E, D>>;
            type Error = D::Err;

            fn try_forward_mut(
                &mut self,
                x: Tensor<(B, $(Const<$d>,)* Const<C>), E, D, OwnedTape<E, D>>,
            ) -> Result<Self::Output, D::Err> {
                self.train(x)
            }
        }

        impl<B: Dim, $(const $d: usize,)* const C: usize, E: Dtype, D: BatchNormKernel<E>>
            ModuleMut<Tensor<(B, $(Const<$d>,)* Const<C>), E, D, NoneTape>>
            for BatchNormalization<C, E, D>
        {
            type Output = Tensor<(B, $(Const<$d>,)* Const<C>), E, D, NoneTape>;
            type Error = D::Err;

            fn try_forward_mut(
                &mut self,
                x: Tensor<(B, $(Const<$d>,)* Const<C>), E, D, NoneTape>,
            ) -> Result<Self::Output, D::Err> {
                self.infer(x)
            }
        }
    };
}

batch_norm_layout!([]);
batch_norm_layout!([L]);
batch_norm_layout!([H, W]);

#[cfg(test)]
mod tests {
    use super::BatchNormalization;
    use dfdx::prelude::*;

    fn input(dev: &Cpu) -> Tensor<(usize, Const<2>), f64, Cpu> {
        dev.tensor_from_vec(vec![1.0, -2.0, 3.0, 0.0, 8.0, 5.0, 0.0, 1.0], (4, Const))
    }

    #[test]
    fn training_uses_biased_batch_statistics_and_updates_moving_ones() {
        let dev = Cpu::default();
        let mut bn = dev.build_module::<BatchNormalization<2>, f64>();
        let y = bn.forward_mut(input(&dev).leaky_trace()).as_vec();
        // column 0: [1, 3, 8, 0], mean 3, biased var 9.5
        let (m0, v0) = (3.0, 9.5);
        let want0 = (1.0 - m0) / (v0 + 1e-3f64).sqrt();
        assert!((y[0] - want0).abs() < 1e-12);
        // column 1: [-2, 0, 5, 1], mean 1, biased var 6.5
        assert!((bn.moving_mean.as_vec()[0] - 0.01 * m0).abs() < 1e-12);
        assert!((bn.moving_mean.as_vec()[1] - 0.01).abs() < 1e-12);
        assert!((bn.moving_variance.as_vec()[0] - (0.99 + 0.01 * v0)).abs() < 1e-12);
        assert!((bn.moving_variance.as_vec()[1] - (0.99 + 0.01 * 6.5)).abs() < 1e-12);
    }

    #[test]
    fn inference_uses_moving_statistics_and_leaves_them_alone() {
        let dev = Cpu::default();
        let mut bn = dev.build_module::<BatchNormalization<2>, f64>();
        bn.set_weights(&[2.0, 1.0], &[0.5, 0.0], &[1.0, -1.0], &[4.0, 1.0])
            .unwrap();
        let y = bn.forward(input(&dev)).as_vec();
        assert!((y[0] - ((1.0 - 1.0) * 2.0 / (4.001f64).sqrt() + 0.5)).abs() < 1e-12);
        assert!((y[1] - ((-2.0 + 1.0) / (1.001f64).sqrt())).abs() < 1e-12);
        let y2 = bn.forward_mut(input(&dev)).as_vec();
        assert_eq!(y, y2);
        assert_eq!(bn.moving_mean.as_vec(), vec![1.0, -1.0]);
    }

    #[test]
    fn batch_norm_normalises_the_channel_axis_of_images() {
        let dev = Cpu::default();
        let mut bn = dev.build_module::<BatchNormalization<3>, f64>();
        let x: Tensor<(usize, Const<2>, Const<2>, Const<3>), f64, _> =
            dev.sample_normal_like(&(2, Const, Const, Const));
        let y = bn.forward_mut(x.leaky_trace());
        let mean: Tensor<Rank1<3>, f64, _> = y.retaped::<NoneTape>().mean::<_, Axes3<0, 1, 2>>();
        assert!(mean.as_vec().iter().all(|m| m.abs() < 1e-9));
        assert_eq!(bn.num_trainable_params(), 6);
    }
}
