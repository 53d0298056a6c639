//! Where `fit`, `evaluate` and `predict` take their batches from: any random-access
//! [`Dataset`] (batched with the call's `batch_size`, `shuffle` and `class_weight`), or a
//! [`Generator`] of whole batches (Keras's generator inputs).

use super::{split_validation, ArrayAdapter, DataAdapter, Dataset, Generator, SampleShape};
use super::{GeneratorAdapter, GeneratorBatch, Shuffle, Subset};
use crate::{target::Target, Error, Result};

/// How a call wants its batches: what `fit`'s arguments say, and where a resumed run stands.
#[derive(Debug, Clone, Default)]
pub struct BatchOptions {
    /// Samples per batch (datasets; a generator's batches are its own).
    pub batch_size: usize,
    /// Shuffling (datasets; a generator's order is its own, as Keras ignores `shuffle` there).
    pub shuffle: Shuffle,
    /// The shuffle seed.
    pub seed: u64,
    /// Per-class weights, turned into per-sample weights.
    pub class_weight: Option<Vec<f32>>,
    /// Whether a NaN or infinite feature or label is an error.
    pub check_finite: bool,
    /// Where a resumed run stands: passes started, and the batch the last of them continues at
    /// (see [`ArrayAdapter::with_position`]).
    pub position: Option<(u64, Option<usize>)>,
}

/// Data that `fit` reads: [`DatasetInput`] (any [`Dataset`], what `Trainer::fit` takes) or
/// [`GeneratorInput`] (a [`Generator`], what `Trainer::fit_generator` takes).
pub trait Source<S: SampleShape, T: Target>: Sync {
    /// The batches of one run.
    type Adapter<'a>: DataAdapter + Send
    where
        Self: 'a;

    /// What [`split_tail`](Source::split_tail) and [`whole`](Source::whole) give.
    type Part<'a>: Source<S, T> + Send
    where
        Self: 'a;

    /// The held-out tail of [`split_tail`](Source::split_tail).
    type Tail<'a>: Dataset<S, T> + Send
    where
        Self: 'a;

    /// The number of samples, when known (`None` for a generator).
    fn samples(&self) -> Option<usize>;

    /// The number of batches of `batch_size` in one pass, when known.
    fn num_batches(&self, batch_size: usize) -> Option<usize> {
        self.samples().map(|n| n.div_ceil(batch_size.max(1)))
    }

    /// The batches of one run.
    fn batches(&self, options: &BatchOptions) -> Result<Self::Adapter<'_>>;

    /// The whole of the data, as a part.
    fn whole(&self) -> Self::Part<'_>;

    /// `fit(validation_split=fraction)`: the data without its tail, and the tail. Only
    /// datasets can be split.
    fn split_tail(&self, fraction: f64) -> Result<(Self::Part<'_>, Self::Tail<'_>)>;
}

/// A [`Dataset`] as a [`Source`]: batched with the call's `batch_size`, `shuffle` and
/// `class_weight`.
#[derive(Debug, Clone, Copy)]
pub struct DatasetInput<Ds>(pub Ds);

/// A [`Generator`] as a [`Source`]: its own batches, in its order.
#[derive(Debug)]
pub struct GeneratorInput<'g, G>(pub &'g G);

impl<G> Clone for GeneratorInput<'_, G> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<G> Copy for GeneratorInput<'_, G> {}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T> + Send> Source<S, T> for DatasetInput<Ds> {
    type Adapter<'a>
        = ArrayAdapter<S, T, &'a Ds>
    where
        Self: 'a;

    type Part<'a>
        = DatasetInput<Subset<'a, S, T, Ds>>
    where
        Self: 'a;

    type Tail<'a>
        = Subset<'a, S, T, Ds>
    where
        Self: 'a;

    fn samples(&self) -> Option<usize> {
        Some(self.0.len())
    }

    fn batches(&self, options: &BatchOptions) -> Result<Self::Adapter<'_>> {
        let mut adapter = ArrayAdapter::new(&self.0, options.batch_size)?
            .with_shuffle(options.shuffle, options.seed)
            .with_finite_check(options.check_finite);
        if let Some(cw) = &options.class_weight {
            adapter = adapter.with_class_weight(cw.clone())?;
        }
        if let Some((passes, continue_at)) = options.position {
            adapter = adapter.with_position(passes, continue_at);
        }
        Ok(adapter)
    }

    fn whole(&self) -> Self::Part<'_> {
        DatasetInput(Subset::all(&self.0))
    }

    fn split_tail(&self, fraction: f64) -> Result<(Self::Part<'_>, Self::Tail<'_>)> {
        let (train, val) = split_validation(&self.0, fraction)?;
        Ok((DatasetInput(train), val))
    }
}

impl<S, T, F, I> Source<S, T> for GeneratorInput<'_, Generator<S, T, F>>
where
    S: SampleShape,
    T: Target,
    F: Fn() -> I + Sync,
    I: Iterator + Send,
    I::Item: GeneratorBatch,
{
    type Adapter<'a>
        = GeneratorAdapter<S, T, &'a F, I>
    where
        Self: 'a;

    type Part<'a>
        = Self
    where
        Self: 'a;

    type Tail<'a>
        = super::ArrayDataset<S, T>
    where
        Self: 'a;

    fn samples(&self) -> Option<usize> {
        None
    }

    fn batches(&self, options: &BatchOptions) -> Result<Self::Adapter<'_>> {
        let mut adapter = GeneratorAdapter::new(self.0.factory())
            .with_finite_check(options.check_finite)
            .with_class_weight(options.class_weight.clone())?;
        if let Some((passes, continue_at)) = options.position {
            adapter = adapter.with_position(passes, continue_at);
        }
        Ok(adapter)
    }

    fn whole(&self) -> Self::Part<'_> {
        *self
    }

    fn split_tail(&self, _fraction: f64) -> Result<(Self::Part<'_>, Self::Tail<'_>)> {
        Err(Error::invalid(
            "validation_split",
            "a generator's batches cannot be split (Keras refuses it too); give validation_data",
        ))
    }
}

/// `fit`'s data is a [`Dataset`] ([`IsDataset`]).
#[derive(Debug)]
pub enum IsDataset {}

/// `fit`'s data is a [`Generator`] ([`IsGenerator`]).
#[derive(Debug)]
pub enum IsGenerator {}

/// What `fit` accepts as its data: every [`Dataset`] and every [`Generator`]. `Kind`
/// ([`IsDataset`] or [`IsGenerator`]) keeps the two impls apart; it is inferred.
#[diagnostic::on_unimplemented(
    message = "the loss takes labels `{T}`, but the data `{Self}` does not give them",
    label = "this `fit`/`evaluate` needs data whose labels are the loss's `{T}`",
    note = "the loss decides the labels: `Sparse` class ids for `SparseCategoricalCrossentropy`, rows as wide as the model's output (`DenseTarget<K>`) for `CategoricalCrossentropy`, `BinaryCrossentropy` and the regression losses",
    note = "give the data those labels, or compile the loss that takes the data's"
)]
pub trait FitData<S: SampleShape, T: Target, Kind> {
    /// The data as a [`Source`].
    type Input<'a>: Source<S, T> + Send
    where
        Self: 'a;

    /// The data as a [`Source`].
    fn input(&self) -> Self::Input<'_>;
}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized> FitData<S, T, IsDataset> for Ds {
    type Input<'a>
        = DatasetInput<&'a Ds>
    where
        Self: 'a;

    fn input(&self) -> Self::Input<'_> {
        DatasetInput(self)
    }
}

impl<S, T, F, I> FitData<S, T, IsGenerator> for Generator<S, T, F>
where
    S: SampleShape,
    T: Target,
    F: Fn() -> I + Sync,
    I: Iterator + Send,
    I::Item: GeneratorBatch,
{
    type Input<'a>
        = GeneratorInput<'a, Self>
    where
        Self: 'a;

    fn input(&self) -> Self::Input<'_> {
        GeneratorInput(self)
    }
}

/// The validation data of a `fit` that has none: a [`Dataset`] of every sample shape and label
/// layout, with no sample.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoValidation;

impl<S: SampleShape, T: Target> Dataset<S, T> for NoValidation {
    fn len(&self) -> usize {
        0
    }

    fn append_sample(&self, index: usize, _x: &mut Vec<f32>, _y: &mut Vec<f32>) -> Result<()> {
        Err(Error::invalid(
            "validation_data",
            format!("there is no validation data (sample {index} asked for)"),
        ))
    }
}
