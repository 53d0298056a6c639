//! Bound aliases: what a model must implement to be trained, evaluated and used for prediction
//! on batches of samples of shape `S`, producing `K` outputs per sample, on device `D`.
//!
//! The model's output is checked through [`OutputShape`] on its *shape* alone, once, so that a
//! model whose output does not fit the labels (a convolution stack without a `Dense` head, a
//! `Dense` as wide as something else) is one error naming both shapes.

use dfdx::{
    nn::{tensor_collection::TensorCollection, Module, ModuleMut},
    shapes::Const,
    tensor::{HasErr, OwnedTape, Tensor},
};

use crate::{
    data::{FitData, SampleShape},
    device::KerasDevice,
    losses::Loss,
};

/// The model's output for a batch: `(batch, K)`.
pub type Output<const K: usize, D, T = dfdx::tensor::NoneTape> =
    Tensor<(usize, Const<K>), f32, D, T>;

/// The shape of a model's output for a batch that fits labels `K` wide: `(batch, K)` only.
///
/// # Examples
/// ```
/// use keras_core::dfdx::shapes::Const;
/// use keras_core::trainer::OutputShape;
///
/// fn fits<Sh: OutputShape<10>>() {}
/// fits::<(usize, Const<10>)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "the model's output is `{Self}` per batch, but the labels are `(batch, {K})`",
    label = "the model's last layer must output `(batch, {K})` to fit these labels",
    note = "a model's output is its last layer's: end a convolution stack in `Flatten<N>` (or `GlobalAveragePooling2D`) and `Dense<N, {K}, ...>`, or give the data labels as wide as the model's output"
)]
pub trait OutputShape<const K: usize>: dfdx::shapes::Shape {
    /// The output as `(batch, K)` (the same tensor).
    fn into_output<D: dfdx::tensor::Storage<f32>, T>(t: Tensor<Self, f32, D, T>)
        -> Output<K, D, T>;
}

impl<const K: usize> OutputShape<K> for (usize, Const<K>) {
    fn into_output<D: dfdx::tensor::Storage<f32>, T>(
        t: Tensor<Self, f32, D, T>,
    ) -> Output<K, D, T> {
        t
    }
}

/// A model that maps a batch of `S` samples to `(batch, K)` outputs, for inference.
pub trait InferenceModel<S: SampleShape, const K: usize, D: KerasDevice>:
    TensorCollection<f32, D>
    + Module<
        Tensor<S::Batched, f32, D>,
        Output = Tensor<Self::Shape, f32, D>,
        Error = <D as HasErr>::Err,
    >
{
    /// The shape of the model's output for a batch: `(usize, Const<K>)`, checked through
    /// [`OutputShape`] so that an output that does not fit the labels names both shapes.
    type Shape: OutputShape<K>;
}

impl<S: SampleShape, const K: usize, D: KerasDevice, M, Sh: OutputShape<K>> InferenceModel<S, K, D>
    for M
where
    M: TensorCollection<f32, D>
        + Module<Tensor<S::Batched, f32, D>, Output = Tensor<Sh, f32, D>, Error = <D as HasErr>::Err>,
{
    type Shape = Sh;
}

/// An [`InferenceModel`] that can also run the training forward (`ModuleMut` on a
/// tape-tracking input: dropout active, batch statistics).
///
/// The training output is required to have the inference output's shape (not to fit the labels
/// again), so that an output that does not fit is reported once.
pub trait TrainModel<S: SampleShape, const K: usize, D: KerasDevice>:
    InferenceModel<S, K, D>
    + ModuleMut<
        Tensor<S::Batched, f32, D, OwnedTape<f32, D>>,
        Output = Tensor<<Self as InferenceModel<S, K, D>>::Shape, f32, D, OwnedTape<f32, D>>,
        Error = <D as HasErr>::Err,
    >
{
}

impl<S: SampleShape, const K: usize, D: KerasDevice, M> TrainModel<S, K, D> for M where
    M: InferenceModel<S, K, D>
        + ModuleMut<
            Tensor<S::Batched, f32, D, OwnedTape<f32, D>>,
            Output = Tensor<<M as InferenceModel<S, K, D>>::Shape, f32, D, OwnedTape<f32, D>>,
            Error = <D as HasErr>::Err,
        >
{
}

/// Data that gives the labels loss `L` takes (for a model output `K` wide): what `fit` and
/// `evaluate` need of their data, a [`FitData`] of the loss's label layout. Implemented for every
/// such data; it exists so that data of other labels is one error naming the loss and the data.
///
/// # Examples
/// ```
/// use keras_core::data::{ArrayDataset, IsDataset};
/// use keras_core::dfdx::shapes::{Const, Rank1};
/// use keras_core::losses::SparseCategoricalCrossentropy;
/// use keras_core::target::Sparse;
/// use keras_core::trainer::LabelsFor;
///
/// fn takes<Ds: LabelsFor<SparseCategoricalCrossentropy, (Const<2>,), 3, IsDataset>>(_: &Ds) {}
/// takes(&ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0; 2], vec![1.0]).unwrap());
/// ```
#[diagnostic::on_unimplemented(
    message = "the loss `{L}` does not take the labels of `{Self}`",
    label = "the loss `{L}` decides the labels this `fit`/`evaluate` needs",
    note = "`Sparse` class ids for `SparseCategoricalCrossentropy`; rows as wide as the model's output (`DenseTarget<K>`) for `CategoricalCrossentropy`, `BinaryCrossentropy` and the regression losses",
    note = "give the data those labels, or compile the loss that takes the data's"
)]
pub trait LabelsFor<L: Loss<K>, S: SampleShape, const K: usize, Kind>:
    FitData<S, L::Target, Kind>
{
}

impl<L: Loss<K>, S: SampleShape, const K: usize, Kind, Ds> LabelsFor<L, S, K, Kind> for Ds where
    Ds: FitData<S, L::Target, Kind> + ?Sized
{
}
