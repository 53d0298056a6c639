//! Keras's `Dropout` layer.

use dfdx::nn::tensor_collection::{ModuleVisitor, ScalarOptions, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, ModuleMut};
use dfdx::shapes::{Dtype, Shape};
use dfdx::tensor::{NoneTape, OwnedTape, Tape, Tensor};
use dfdx::tensor_ops::Device;

use crate::kernels::{try_masked_dropout, DropoutMaskKernel};
use crate::{Error, Result};

/// Keras's `Dropout(rate)`: in the training forward, zeroes each input with probability `rate`
/// and scales the kept ones by `1 / (1 - rate)` (inverted dropout); otherwise the identity.
///
/// "Training" is the dfdx training forward: [`ModuleMut`] on an `OwnedTape` input, which is what
/// the trainer's step runs. [`Module`] (any tape) and `ModuleMut` on `NoneTape` inputs are the
/// identity, as Keras's `training=False` (predict, evaluate). In the trainer's steps the mask's
/// seed follows from the run's seed, epoch and batch (so a run resumed from a backup draws the
/// masks the uninterrupted run drew); elsewhere it comes from the device's RNG, so a seeded
/// device repeats it.
///
/// Keras requires `rate`; building a model fills it with [`Default`] (`0.5`): in a derived
/// model give the rate as `#[layer(rate = 0.2)]` on the field, which holds through building,
/// device moves and conversions; elsewhere set it on the built model (`model.dropout =
/// Dropout::new(0.2)?`). It holds no tensors.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Dropout;
///
/// let dev = Cpu::seed_from_u64(0);
/// let mut dropout = Dropout::new(0.5)?;
/// let x: Tensor<Rank1<4>, f32, _> = dev.ones();
/// assert_eq!(dropout.forward(x.clone()).array(), [1.0; 4]); // inference: identity
/// let y = dropout.forward_mut(x.traced(Gradients::leaky()));
/// assert!(y.array().iter().all(|&v| v == 0.0 || v == 2.0)); // training: inverted dropout
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropout {
    /// Fraction of the inputs to drop, in `[0, 1]`. Defaults to `0.5`.
    pub rate: f64,
}

impl Default for Dropout {
    fn default() -> Self {
        Self { rate: 0.5 }
    }
}

impl Dropout {
    /// A dropout layer; Keras's range check: `rate` must be in `[0, 1]`.
    pub fn new(rate: f64) -> Result<Self> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(Error::invalid(
                "rate",
                format!("expected a float between 0 and 1, got {rate}"),
            ));
        }
        Ok(Self { rate })
    }
}

impl<E: Dtype, D: Device<E>> BuildOnDevice<D, E> for Dropout {
    type Built = Dropout;
}

impl<E: Dtype, D: Device<E>> TensorCollection<E, D> for Dropout {
    type To<E2: Dtype, D2: Device<E2>> = Dropout;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            <Self as TensorCollection<E, D>>::scalar(
                "rate",
                |s| &s.rate,
                |s| &mut s.rate,
                ScalarOptions::from_default(0.5),
            ),
            |rate| Dropout { rate },
        )
    }
}

impl<S: Shape, E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<S, E, D, T>> for Dropout {
    type Output = Tensor<S, E, D, T>;
    type Error = D::Err;

    /// Inference: the identity.
    fn try_forward(&self, x: Tensor<S, E, D, T>) -> Result<Self::Output, D::Err> {
        Ok(x)
    }
}

impl<S: Shape, E: Dtype, D: Device<E>> ModuleMut<Tensor<S, E, D, NoneTape>> for Dropout {
    type Output = Tensor<S, E, D, NoneTape>;
    type Error = D::Err;

    /// No tape, no training: the identity.
    fn try_forward_mut(&mut self, x: Tensor<S, E, D, NoneTape>) -> Result<Self::Output, D::Err> {
        Ok(x)
    }
}

impl<S: Shape, E: Dtype, D: DropoutMaskKernel<E>> ModuleMut<Tensor<S, E, D, OwnedTape<E, D>>>
    for Dropout
{
    type Output = Tensor<S, E, D, OwnedTape<E, D>>;
    type Error = D::Err;

    /// Training: inverted dropout with probability `rate`, by the device's
    /// [`DropoutMaskKernel`] (the mask drawn from a seed and each element's index, on the
    /// device).
    fn try_forward_mut(
        &mut self,
        x: Tensor<S, E, D, OwnedTape<E, D>>,
    ) -> Result<Self::Output, D::Err> {
        if self.rate <= 0.0 {
            return Ok(x);
        }
        // In a trainer's step the mask follows from the step's place in training, so a resumed
        // run draws the same masks; elsewhere from the device's generator.
        let seed = super::dropout_seeds::next_seed().unwrap_or_else(|| x.device().random_u64());
        try_masked_dropout(x, self.rate, seed)
    }
}

#[cfg(test)]
mod tests {
    use super::Dropout;
    use dfdx::prelude::*;

    #[test]
    fn dropout_rejects_rates_outside_zero_one() {
        assert!(Dropout::new(-0.1).is_err());
        assert!(Dropout::new(1.5).is_err());
        assert!(Dropout::new(f64::NAN).is_err());
        assert_eq!(Dropout::new(0.25).map(|d| d.rate).ok(), Some(0.25));
    }

    #[test]
    fn dropout_with_rate_zero_is_identity_in_training() {
        let dev = Cpu::seed_from_u64(0);
        let x: Tensor<Rank1<8>, f32, _> = dev.sample_normal();
        let y = Dropout::new(0.0).unwrap().forward_mut(x.leaky_trace());
        assert_eq!(y.array(), x.array());
    }

    #[test]
    fn dropout_with_seeded_devices_repeats_its_mask() {
        let run = || {
            let dev = Cpu::seed_from_u64(3);
            let x: Tensor<Rank1<32>, f32, _> = dev.ones();
            Dropout::default().forward_mut(x.leaky_trace()).array()
        };
        assert_eq!(run(), run());
    }
}
