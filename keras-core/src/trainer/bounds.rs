//! Bound aliases: what a model must implement to be trained, evaluated and used for prediction
//! on batches of samples of shape `S`, producing `K` outputs per sample, on device `D`.

use dfdx::{
    nn::{tensor_collection::TensorCollection, Module, ModuleMut},
    shapes::Const,
    tensor::{HasErr, OwnedTape, Tensor},
};

use crate::{data::SampleShape, device::KerasDevice};

/// The model's output for a batch: `(batch, K)`.
pub type Output<const K: usize, D, T = dfdx::tensor::NoneTape> =
    Tensor<(usize, Const<K>), f32, D, T>;

/// A model that maps a batch of `S` samples to `(batch, K)` outputs, for inference.
pub trait InferenceModel<S: SampleShape, const K: usize, D: KerasDevice>:
    TensorCollection<f32, D>
    + Module<Tensor<S::Batched, f32, D>, Output = Output<K, D>, Error = <D as HasErr>::Err>
{
}

impl<S: SampleShape, const K: usize, D: KerasDevice, M> InferenceModel<S, K, D> for M where
    M: TensorCollection<f32, D>
        + Module<Tensor<S::Batched, f32, D>, Output = Output<K, D>, Error = <D as HasErr>::Err>
{
}

/// An [`InferenceModel`] that can also run the training forward (`ModuleMut` on a
/// tape-tracking input: dropout active, batch statistics).
pub trait TrainModel<S: SampleShape, const K: usize, D: KerasDevice>:
    InferenceModel<S, K, D>
    + ModuleMut<
        Tensor<S::Batched, f32, D, OwnedTape<f32, D>>,
        Output = Output<K, D, OwnedTape<f32, D>>,
        Error = <D as HasErr>::Err,
    >
{
}

impl<S: SampleShape, const K: usize, D: KerasDevice, M> TrainModel<S, K, D> for M where
    M: InferenceModel<S, K, D>
        + ModuleMut<
            Tensor<S::Batched, f32, D, OwnedTape<f32, D>>,
            Output = Output<K, D, OwnedTape<f32, D>>,
            Error = <D as HasErr>::Err,
        >
{
}
