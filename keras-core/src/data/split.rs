//! `fit(validation_split=...)`: the tail of the data, taken before shuffling.

use std::marker::PhantomData;

use super::{Dataset, SampleShape};
use crate::{target::Target, Error, Result};

/// A contiguous range of another dataset's samples.
#[derive(Debug)]
pub struct Subset<'a, S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized> {
    inner: &'a Ds,
    start: usize,
    len: usize,
    _shape: PhantomData<(S, T)>,
}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized> Clone for Subset<'_, S, T, Ds> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized> Copy for Subset<'_, S, T, Ds> {}

impl<'a, S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized> Subset<'a, S, T, Ds> {
    /// All of `inner`.
    pub fn all(inner: &'a Ds) -> Self {
        Self {
            inner,
            start: 0,
            len: inner.len(),
            _shape: PhantomData,
        }
    }

    /// Samples `start..start + len` of `inner`.
    pub fn range(inner: &'a Ds, start: usize, len: usize) -> Result<Self> {
        if start + len > inner.len() {
            return Err(Error::invalid(
                "range",
                format!(
                    "{start}..{} is outside the {} samples",
                    start + len,
                    inner.len()
                ),
            ));
        }
        Ok(Self {
            inner,
            start,
            len,
            _shape: PhantomData,
        })
    }
}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized> Dataset<S, T> for Subset<'_, S, T, Ds> {
    fn len(&self) -> usize {
        self.len
    }

    fn append_sample(&self, index: usize, x: &mut Vec<f32>, y: &mut Vec<f32>) -> Result<()> {
        if index >= self.len {
            return Err(Error::invalid(
                "index",
                format!("sample {index} is out of range for {} samples", self.len),
            ));
        }
        self.inner.append_sample(self.start + index, x, y)
    }

    fn sample_weight(&self, index: usize) -> Option<f32> {
        self.inner.sample_weight(self.start + index)
    }

    fn has_sample_weights(&self) -> bool {
        self.inner.has_sample_weights()
    }

    fn source_index(&self, index: usize) -> usize {
        self.inner.source_index(self.start + index)
    }
}

/// A `(train, validation)` pair of [`Subset`]s.
pub type Split<'a, S, T, Ds> = (Subset<'a, S, T, Ds>, Subset<'a, S, T, Ds>);

/// Splits off the last `fraction` of the samples for validation, as Keras does:
/// `split_at = floor(n * (1 - fraction))`. Errors when `fraction` is outside `(0, 1)` or the
/// split leaves no training or no validation sample.
pub fn split_validation<'a, S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized>(
    data: &'a Ds,
    fraction: f64,
) -> Result<Split<'a, S, T, Ds>> {
    if !(fraction > 0.0 && fraction < 1.0) {
        return Err(Error::invalid(
            "validation_split",
            format!("must be strictly between 0 and 1, got {fraction}"),
        ));
    }
    let n = data.len();
    let split_at = (n as f64 * (1.0 - fraction)).floor() as usize;
    if split_at == 0 || split_at == n {
        return Err(Error::invalid(
            "validation_split",
            format!(
                "{fraction} of {n} samples leaves {split_at} for training and {} for validation; both need at least one sample",
                n - split_at
            ),
        ));
    }
    Ok((
        Subset::range(data, 0, split_at)?,
        Subset::range(data, split_at, n - split_at)?,
    ))
}
