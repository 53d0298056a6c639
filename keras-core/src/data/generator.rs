//! Batches from user code: Keras's generator adapter, of unknown length.

use std::marker::PhantomData;

use super::{Batch, DataAdapter, SampleShape};
use crate::{target::Target, Error, Result};

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
    _shape: PhantomData<(S, T)>,
}

impl<S, T, F, I> GeneratorAdapter<S, T, F, I>
where
    S: SampleShape,
    T: Target,
    F: FnMut() -> I,
    I: Iterator<Item = (Vec<f32>, Vec<f32>)>,
{
    /// Wraps a factory of batch iterators.
    pub fn new(make: F) -> Self {
        Self {
            make,
            current: None,
            _shape: PhantomData,
        }
    }
}

impl<S, T, F, I> DataAdapter for GeneratorAdapter<S, T, F, I>
where
    S: SampleShape,
    T: Target,
    F: FnMut() -> I + Send,
    I: Iterator<Item = (Vec<f32>, Vec<f32>)> + Send,
{
    fn num_batches(&self) -> Option<usize> {
        None
    }

    fn start_pass(&mut self) -> Result<()> {
        self.current = Some((self.make)());
        Ok(())
    }

    fn next_batch(&mut self, out: &mut Batch) -> Result<bool> {
        out.clear();
        out.sample_weight = None;
        let Some(it) = self.current.as_mut() else {
            return Ok(false);
        };
        let Some((x, y)) = it.next() else {
            return Ok(false);
        };
        if x.is_empty() || x.len() % S::NUMEL != 0 {
            return Err(Error::ShapeMismatch {
                name: "x",
                expected: format!("a non-empty multiple of {} values per batch", S::NUMEL),
                got: format!("{} values", x.len()),
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
        out.x.extend_from_slice(&x);
        out.y.extend_from_slice(&y);
        out.size = n;
        Ok(true)
    }
}
