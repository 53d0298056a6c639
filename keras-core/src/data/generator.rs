//! Batches from user code: Keras's generator adapter, of unknown length.

use std::marker::PhantomData;

use super::{Batch, DataAdapter, SampleShape};
use crate::{target::Target, Error, Result};

/// Keras's generator input for `fit`, `evaluate` and `predict`: a factory of iterators of whole
/// batches, `(x, y)` pairs where `x` holds a batch of samples (row-major) and `y` its labels, or
/// `(x, y, sample_weight)` triples with one weight per sample ([`GeneratorBatch`]).
/// Each pass (epoch, or evaluation) calls the factory for a fresh iterator; the number of
/// batches is learned when it first runs out, and `steps_per_epoch` can stop a pass earlier
/// (an endless generator needs it). Keras's rules: `shuffle` is ignored, `validation_split` is
/// refused, a generator that yields nothing is an error; `class_weight` weighs each sample from
/// its label.
///
/// # Examples
/// ```
/// use keras_core::data::{Generator, GeneratorInput, Source};
/// use keras_core::dfdx::shapes::Rank1;
/// use keras_core::target::Sparse;
/// let gen = Generator::<Rank1<2>, Sparse, _>::new(|| {
///     (0..3).map(|i| (vec![i as f32; 4], vec![0.0, 1.0]))
/// });
/// assert_eq!(Source::<Rank1<2>, Sparse>::samples(&GeneratorInput(&gen)), None);
/// ```
pub struct Generator<S: SampleShape, T: Target, F> {
    make: F,
    _shape: PhantomData<fn() -> (S, T)>,
}

/// What a [`Generator`]'s iterators yield, as Keras's generators do: `(x, y)`, or
/// `(x, y, sample_weight)` with one finite weight per sample (weighting the loss and the
/// weighted metrics; not together with `class_weight`, as Keras).
pub trait GeneratorBatch: Send {
    /// The features, the labels and the weights, if any.
    fn into_parts(self) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>);
}

impl GeneratorBatch for (Vec<f32>, Vec<f32>) {
    fn into_parts(self) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
        (self.0, self.1, None)
    }
}

impl GeneratorBatch for (Vec<f32>, Vec<f32>, Vec<f32>) {
    fn into_parts(self) -> (Vec<f32>, Vec<f32>, Option<Vec<f32>>) {
        (self.0, self.1, Some(self.2))
    }
}

impl<S: SampleShape, T: Target, F> Generator<S, T, F> {
    /// Wraps a factory of batch iterators (called once per pass, possibly from the prefetch
    /// thread, hence `Fn + Sync`).
    pub fn new(make: F) -> Self {
        Self {
            make,
            _shape: PhantomData,
        }
    }

    /// The factory.
    pub(crate) fn factory(&self) -> &F {
        &self.make
    }
}

impl<S: SampleShape, T: Target, F> std::fmt::Debug for Generator<S, T, F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Generator")
    }
}

/// Batches produced by an iterator of `(x, y)` pairs, where `x` holds a whole batch of
/// samples (row-major) and `y` its labels. The number of batches is unknown until the iterator
/// runs out for the first time; the [`EpochIterator`](super::EpochIterator) then learns it, as
/// Keras does.
///
/// Each pass calls `make` for a fresh iterator.
///
/// # Examples
/// ```
/// use keras_core::data::{Batch, DataAdapter, GeneratorAdapter};
/// use keras_core::dfdx::shapes::Rank1;
/// use keras_core::target::Dense;
/// let mut gen = GeneratorAdapter::<Rank1<1>, Dense<1>, _, _>::new(|| {
///     (0..3).map(|i| (vec![i as f32, i as f32], vec![1.0, 2.0]))
/// });
/// gen.start_pass().unwrap();
/// let mut batch = Batch::default();
/// assert!(gen.next_batch(&mut batch).unwrap());
/// assert_eq!(batch.size, 2);
/// ```
pub struct GeneratorAdapter<S: SampleShape, T: Target, F, I> {
    make: F,
    current: Option<I>,
    check_finite: bool,
    class_weight: Option<Vec<f32>>,
    /// Batches to skip at the start of the next pass (a resumed run continuing a pass).
    skip: usize,
    /// Batches read in the current pass, for error messages.
    batch: usize,
    _shape: PhantomData<(S, T)>,
}

impl<S, T, F, I> GeneratorAdapter<S, T, F, I>
where
    S: SampleShape,
    T: Target,
    F: FnMut() -> I,
    I: Iterator,
    I::Item: GeneratorBatch,
{
    /// Wraps a factory of batch iterators.
    pub fn new(make: F) -> Self {
        Self {
            make,
            current: None,
            check_finite: false,
            class_weight: None,
            skip: 0,
            batch: 0,
            _shape: PhantomData,
        }
    }

    /// Rejects a batch holding a NaN or infinite feature or label with
    /// [`Error::NonFiniteInput`] (the index is the sample's within the pass). Defaults to off.
    pub fn with_finite_check(mut self, check: bool) -> Self {
        self.check_finite = check;
        self
    }

    /// Per-class weights (index = class id), turned into per-sample weights from each batch's
    /// labels: one class id per sample or a single binary label column. `None` removes them.
    pub fn with_class_weight(mut self, class_weight: Option<Vec<f32>>) -> Result<Self> {
        if let Some(cw) = &class_weight {
            super::class_weight::check::<T>(cw)?;
        }
        self.class_weight = class_weight;
        Ok(self)
    }

    /// Places the adapter where a run stopped: with `Some(b)` the next pass skips its first
    /// `b` batches (they are read and dropped: a generator cannot seek), so that the run
    /// continues the pass it stopped in; a new factory call restarts the generator either way.
    pub fn with_position(mut self, _passes: u64, continue_at_batch: Option<usize>) -> Self {
        self.skip = continue_at_batch.unwrap_or(0);
        self
    }
}

impl<S, T, F, I> DataAdapter for GeneratorAdapter<S, T, F, I>
where
    S: SampleShape,
    T: Target,
    F: FnMut() -> I + Send,
    I: Iterator + Send,
    I::Item: GeneratorBatch,
{
    fn num_batches(&self) -> Option<usize> {
        None
    }

    fn start_pass(&mut self) -> Result<()> {
        let mut it = (self.make)();
        self.batch = 0;
        for skipped in 0..std::mem::take(&mut self.skip) {
            if it.next().is_none() {
                return Err(Error::invalid(
                    "resume",
                    format!("the generator ran out after {skipped} batches, before the batch the run stopped at"),
                ));
            }
            self.batch += 1;
        }
        self.current = Some(it);
        Ok(())
    }

    fn next_batch(&mut self, out: &mut Batch) -> Result<bool> {
        out.clear();
        out.sample_weight = None;
        let Some(it) = self.current.as_mut() else {
            return Ok(false);
        };
        let Some((x, y, sample_weight)) = it.next().map(GeneratorBatch::into_parts) else {
            return Ok(false);
        };
        let batch = self.batch;
        self.batch += 1;
        if x.is_empty() || x.len() % S::NUMEL != 0 {
            return Err(Error::ShapeMismatch {
                name: "x",
                expected: format!("a non-empty multiple of {} values per batch", S::NUMEL),
                got: format!("{} values in batch {batch}", x.len()),
            });
        }
        let n = x.len() / S::NUMEL;
        if y.len() != n * T::WIDTH {
            return Err(Error::LengthMismatch {
                left: "x",
                left_len: n,
                right: "y",
                right_len: y.len() / T::WIDTH.max(1),
            });
        }
        if self.check_finite {
            for (name, values, width) in [("x", &x, S::NUMEL), ("y", &y, T::WIDTH.max(1))] {
                for (i, sample) in values.chunks(width).enumerate() {
                    super::array::check_finite(name, i, sample)?;
                }
            }
        }
        if let Some(weights) = sample_weight {
            if self.class_weight.is_some() {
                return Err(Error::invalid(
                    "class_weight",
                    format!("batch {batch} of the generator carries sample weights; Keras takes class_weight or sample_weight, not both"),
                ));
            }
            if weights.len() != n {
                return Err(Error::LengthMismatch {
                    left: "sample_weight",
                    left_len: weights.len(),
                    right: "x",
                    right_len: n,
                });
            }
            if let Some((i, w)) = weights.iter().enumerate().find(|(_, w)| !w.is_finite()) {
                return Err(Error::invalid(
                    "sample_weight",
                    format!("weights must be finite; sample {i} of batch {batch} has {w}"),
                ));
            }
            out.sample_weight = Some(weights);
        } else if let Some(cw) = &self.class_weight {
            let mut weights = Vec::with_capacity(n);
            for (i, &label) in y.iter().step_by(T::WIDTH.max(1)).enumerate() {
                let at = format_args!("sample {i} of batch {batch}");
                weights.push(super::class_weight::weight_of(cw, label, at)?);
            }
            out.sample_weight = Some(weights);
        }
        out.x.extend_from_slice(&x);
        out.y.extend_from_slice(&y);
        out.size = n;
        Ok(true)
    }
}
