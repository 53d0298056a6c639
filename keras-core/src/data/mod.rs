//! Data: datasets, adapters and the [`EpochIterator`].
//!
//! # Separation of concerns
//!
//! As in Keras's `epoch_iterator.py`, each `fit` argument has one owner:
//!
//! | argument | owner |
//! |---|---|
//! | `x`, `y`, `sample_weight` | the [`Dataset`] (e.g. [`ArrayDataset`]): samples and their labels and weights |
//! | `batch_size`, `shuffle`, `class_weight` | the [`ArrayAdapter`]: how samples become batches, in which order, with which weights |
//! | `steps_per_epoch`, `steps_per_execution`, step numbering, running out of data | the [`EpochIterator`] |
//! | `validation_split` | [`split_validation`]: the tail of the data, taken before shuffling |
//! | `epochs`, `initial_epoch`, `callbacks`, `validation_data`, `validation_freq`, `validation_steps`, `validation_batch_size`, `verbose` | the trainer (`fit`) |
//!
//! Batches are assembled on the host into reused buffers ([`Batch`]); the [`EpochIterator`]
//! does this on a background thread so that data preparation overlaps compute.

mod array;
mod batch;
mod class_weight;
mod dataset;
mod epoch_iterator;
mod generator;
pub mod loaders;
mod npy_dataset;
mod prefetch;
mod sample_shape;
mod shard;
mod shuffle;
mod source;
mod split;

pub use crate::state::DataPosition;
pub use array::{ArrayAdapter, ArrayDataset};
pub use batch::{Batch, BatchShard};
pub use dataset::{DataAdapter, Dataset};
pub use epoch_iterator::{EpochIterator, Step};
pub use generator::{Generator, GeneratorAdapter, GeneratorBatch};
pub use npy_dataset::NpyDataset;
pub use prefetch::Prefetch;
pub use sample_shape::SampleShape;
pub use shard::Sharded;
pub use shuffle::Shuffle;
pub use source::{
    BatchOptions, DatasetInput, FitData, GeneratorInput, IsDataset, IsGenerator, NoValidation,
    Source,
};
pub use split::{split_validation, Split, Subset};
