//! The random-access [`Dataset`] trait and the [`DataAdapter`] trait the epoch iterator drives.

use super::{Batch, SampleShape};
use crate::{target::Target, Result};

/// Random-access samples with a compile-time sample shape `S` and label layout `T` (Keras's
/// `PyDataset`, per sample). Implement it for your own data; [`ArrayDataset`](super::ArrayDataset)
/// covers in-memory arrays.
#[diagnostic::on_unimplemented(
    message = "the loss takes labels `{T}`, but the data `{Self}` does not give them",
    label = "this `fit`/`evaluate` needs data whose labels are the loss's `{T}`",
    note = "the loss decides the labels: `Sparse` class ids for `SparseCategoricalCrossentropy`, rows as wide as the model's output (`DenseTarget<K>`) for `CategoricalCrossentropy`, `BinaryCrossentropy` and the regression losses",
    note = "give the data those labels, or compile the loss that takes the data's"
)]
pub trait Dataset<S: SampleShape, T: Target>: Sync {
    /// Number of samples.
    fn len(&self) -> usize;

    /// `true` when there is no sample.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends sample `index`'s features (`S::NUMEL` values) to `x` and its label (`T::WIDTH`
    /// values) to `y`.
    fn append_sample(&self, index: usize, x: &mut Vec<f32>, y: &mut Vec<f32>) -> Result<()>;

    /// Sample `index`'s weight, when the data carries weights.
    fn sample_weight(&self, _index: usize) -> Option<f32> {
        None
    }

    /// Whether the data carries sample weights.
    fn has_sample_weights(&self) -> bool {
        false
    }

    /// Sample `index`'s index in the data the user gave, for error messages: a view of part of
    /// a dataset (a [`Subset`](super::Subset) of a validation split) maps its indices back.
    /// Defaults to `index`.
    fn source_index(&self, index: usize) -> usize {
        index
    }
}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized> Dataset<S, T> for &Ds {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn append_sample(&self, index: usize, x: &mut Vec<f32>, y: &mut Vec<f32>) -> Result<()> {
        (**self).append_sample(index, x, y)
    }
    fn sample_weight(&self, index: usize) -> Option<f32> {
        (**self).sample_weight(index)
    }
    fn has_sample_weights(&self) -> bool {
        (**self).has_sample_weights()
    }
    fn source_index(&self, index: usize) -> usize {
        (**self).source_index(index)
    }
}

/// A source of batches for the [`EpochIterator`](super::EpochIterator) (Keras's `DataAdapter`).
pub trait DataAdapter: Send {
    /// Number of batches in one full pass, when known (`None` for generators until they run
    /// out once).
    fn num_batches(&self) -> Option<usize>;

    /// Starts a new pass over the data (a new shuffle order for arrays).
    fn start_pass(&mut self) -> Result<()>;

    /// Fills `out` with the next batch of the pass. Returns `false` when the pass is exhausted.
    fn next_batch(&mut self, out: &mut Batch) -> Result<bool>;
}
