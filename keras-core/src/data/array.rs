//! In-memory arrays: [`ArrayDataset`] and the [`ArrayAdapter`] that batches it.

use std::marker::PhantomData;

use super::{shuffle, Batch, DataAdapter, Dataset, SampleShape, Shuffle};
use crate::{
    target::{NoLabels, Target},
    Error, Result,
};

/// Samples held in memory as flat row-major `f32` buffers: `x` has `n * S::NUMEL` values, `y`
/// has `n * T::WIDTH` (class ids for [`Sparse`](crate::target::Sparse) labels), and optional
/// per-sample weights.
///
/// # Examples
/// ```
/// use keras_core::data::{ArrayDataset, Dataset};
/// use keras_core::dfdx::shapes::Rank1;
/// use keras_core::target::Sparse;
/// let data = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0, 1.0, 2.0, 3.0], vec![0.0, 1.0]).unwrap();
/// assert_eq!(data.len(), 2);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ArrayDataset<S: SampleShape, T: Target> {
    x: Vec<f32>,
    y: Vec<f32>,
    sample_weight: Option<Vec<f32>>,
    len: usize,
    _shape: PhantomData<(S, T)>,
}

impl<S: SampleShape> ArrayDataset<S, NoLabels> {
    /// Features only, `n * S::NUMEL` values (Keras's `model.predict(x)`): data for `predict`.
    /// The same checks as [`ArrayDataset::new`] on `x`.
    pub fn features(x: Vec<f32>) -> Result<Self> {
        Self::new(x, Vec::new())
    }
}

impl<S: SampleShape, T: Target> ArrayDataset<S, T> {
    /// Wraps features and labels. Errors when either is not a whole number of samples, when
    /// they hold different numbers of samples, when there is no sample, or when a sparse label
    /// is not a non-negative integer.
    pub fn new(x: Vec<f32>, y: Vec<f32>) -> Result<Self> {
        if !x.len().is_multiple_of(S::NUMEL) {
            return Err(Error::ShapeMismatch {
                name: "x",
                expected: format!("a multiple of {} values (one sample's size)", S::NUMEL),
                got: format!("{} values", x.len()),
            });
        }
        if !y.len().is_multiple_of(T::WIDTH) {
            return Err(Error::ShapeMismatch {
                name: "y",
                expected: format!("a multiple of {} values (one label's size)", T::WIDTH),
                got: format!("{} values", y.len()),
            });
        }
        let n = x.len() / S::NUMEL;
        // Features-only data (`NoLabels`) has no label per sample: `y` must be empty.
        let ny = y.len().checked_div(T::WIDTH).unwrap_or(n);
        if n != ny {
            return Err(Error::LengthMismatch {
                left: "x",
                left_len: n,
                right: "y",
                right_len: ny,
            });
        }
        if n == 0 {
            return Err(Error::EmptyData {
                name: "x",
                reason: "give at least one sample".into(),
            });
        }
        if T::SPARSE {
            if let Some((i, &l)) = y
                .iter()
                .enumerate()
                .find(|(_, l)| !(l.is_finite() && **l >= 0.0 && l.fract() == 0.0))
            {
                return Err(Error::invalid(
                    "y",
                    format!(
                        "sparse labels must be non-negative integer class ids; sample {i} has {l}"
                    ),
                ));
            }
        }
        Ok(Self {
            x,
            y,
            sample_weight: None,
            len: n,
            _shape: PhantomData,
        })
    }

    /// Adds one weight per sample (Keras's `sample_weight`).
    pub fn with_sample_weight(mut self, weights: Vec<f32>) -> Result<Self> {
        if weights.len() != self.len {
            return Err(Error::LengthMismatch {
                left: "sample_weight",
                left_len: weights.len(),
                right: "x",
                right_len: self.len,
            });
        }
        if let Some((i, w)) = weights.iter().enumerate().find(|(_, w)| !w.is_finite()) {
            return Err(Error::invalid(
                "sample_weight",
                format!("weights must be finite; sample {i} has {w}"),
            ));
        }
        self.sample_weight = Some(weights);
        Ok(self)
    }

    /// The features, row-major.
    pub fn x(&self) -> &[f32] {
        &self.x
    }

    /// The labels, row-major.
    pub fn y(&self) -> &[f32] {
        &self.y
    }
}

impl<S: SampleShape, T: Target> Dataset<S, T> for ArrayDataset<S, T> {
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
        x.extend_from_slice(&self.x[index * S::NUMEL..(index + 1) * S::NUMEL]);
        y.extend_from_slice(&self.y[index * T::WIDTH..(index + 1) * T::WIDTH]);
        Ok(())
    }

    fn sample_weight(&self, index: usize) -> Option<f32> {
        self.sample_weight
            .as_ref()
            .and_then(|w| w.get(index).copied())
    }

    fn has_sample_weights(&self) -> bool {
        self.sample_weight.is_some()
    }
}

/// Batches a [`Dataset`]: Keras's `ArrayDataAdapter` (`batch_size`, `shuffle`, `class_weight`).
/// The last batch of a pass holds the remainder (nothing is dropped).
#[derive(Debug)]
pub struct ArrayAdapter<S: SampleShape, T: Target, Ds: Dataset<S, T>> {
    data: Ds,
    batch_size: usize,
    shuffle: Shuffle,
    seed: u64,
    pass: u64,
    order: Vec<usize>,
    cursor: usize,
    resume_batch: Option<usize>,
    class_weight: Option<Vec<f32>>,
    check_finite: bool,
    _shape: PhantomData<(S, T)>,
}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T>> ArrayAdapter<S, T, Ds> {
    /// Batches `data` in batches of `batch_size` (at least 1).
    pub fn new(data: Ds, batch_size: usize) -> Result<Self> {
        if batch_size == 0 {
            return Err(Error::invalid(
                "batch_size",
                "must be at least 1 (Keras's default is 32)",
            ));
        }
        if data.is_empty() {
            return Err(Error::EmptyData {
                name: "x",
                reason: "give at least one sample".into(),
            });
        }
        Ok(Self {
            data,
            batch_size,
            shuffle: Shuffle::None,
            seed: 0,
            pass: 0,
            order: Vec::new(),
            cursor: 0,
            resume_batch: None,
            class_weight: None,
            check_finite: false,
            _shape: PhantomData,
        })
    }

    /// Rejects a batch holding a NaN or infinite feature or label with
    /// [`Error::NonFiniteInput`] naming the sample, before the batch reaches a model. `fit`
    /// turns it on (its `check_finite` argument). Defaults to off.
    pub fn with_finite_check(mut self, check: bool) -> Self {
        self.check_finite = check;
        self
    }

    /// Shuffling mode and seed. Defaults to no shuffling.
    pub fn with_shuffle(mut self, shuffle: Shuffle, seed: u64) -> Self {
        self.shuffle = shuffle;
        self.seed = seed;
        self
    }

    /// Starts numbering passes at `pass` (to resume a run with the same sample orders).
    pub fn with_first_pass(mut self, pass: u64) -> Self {
        self.pass = pass;
        self
    }

    /// Places the adapter where a run stopped, without reading any batch: `passes` passes were
    /// started; with `Some(b)`, the next [`start_pass`](DataAdapter::start_pass) continues the
    /// last of them (pass `passes - 1`, same sample order) at its batch `b`, otherwise it starts
    /// pass `passes`. See [`EpochIterator::restore`](super::EpochIterator::restore).
    pub fn with_position(mut self, passes: u64, continue_at_batch: Option<usize>) -> Self {
        match continue_at_batch {
            Some(b) if passes > 0 => {
                self.pass = passes - 1;
                self.resume_batch = Some(b);
            }
            _ => {
                self.pass = passes;
                self.resume_batch = None;
            }
        }
        self
    }

    /// Per-class weights (index = class id), turned into per-sample weights. Sparse labels
    /// only; errors when the data already has sample weights (Keras forbids both).
    pub fn with_class_weight(mut self, class_weight: Vec<f32>) -> Result<Self> {
        super::class_weight::check::<T>(&class_weight)?;
        if self.data.has_sample_weights() {
            return Err(Error::invalid(
                "class_weight",
                "cannot be combined with sample_weight; fold the class weights into sample_weight instead",
            ));
        }
        self.class_weight = Some(class_weight);
        Ok(self)
    }

    /// Number of passes started so far.
    pub fn passes(&self) -> u64 {
        self.pass
    }
}

impl<S: SampleShape, T: Target, Ds: Dataset<S, T> + Send> DataAdapter for ArrayAdapter<S, T, Ds> {
    fn num_batches(&self) -> Option<usize> {
        Some(self.data.len().div_ceil(self.batch_size))
    }

    fn start_pass(&mut self) -> Result<()> {
        shuffle::order(
            self.shuffle,
            self.data.len(),
            self.batch_size,
            self.seed,
            self.pass,
            &mut self.order,
        );
        self.pass += 1;
        self.cursor = self.resume_batch.take().map_or(0, |b| {
            b.saturating_mul(self.batch_size).min(self.order.len())
        });
        Ok(())
    }

    fn next_batch(&mut self, out: &mut Batch) -> Result<bool> {
        out.clear();
        if self.cursor >= self.order.len() {
            return Ok(false);
        }
        let end = self
            .cursor
            .saturating_add(self.batch_size)
            .min(self.order.len());
        let weighted = self.class_weight.is_some() || self.data.has_sample_weights();
        let weights = if weighted {
            Some(out.sample_weight.get_or_insert_with(Vec::new))
        } else {
            out.sample_weight = None;
            None
        };
        let mut weights = weights;
        for &i in &self.order[self.cursor..end] {
            let (x_start, y_start) = (out.x.len(), out.y.len());
            self.data.append_sample(i, &mut out.x, &mut out.y)?;
            if self.check_finite {
                let source = self.data.source_index(i);
                check_finite("x", source, &out.x[x_start..])?;
                check_finite("y", source, &out.y[y_start..])?;
            }
            if let Some(w) = weights.as_deref_mut() {
                let value = match &self.class_weight {
                    Some(cw) => super::class_weight::weight_of(
                        cw,
                        out.y[y_start],
                        format_args!("sample {i}"),
                    )?,
                    None => self.data.sample_weight(i).unwrap_or(1.0),
                };
                w.push(value);
            }
        }
        out.size = end - self.cursor;
        self.cursor = end;
        Ok(true)
    }
}

/// [`Error::NonFiniteInput`] for the first non-finite value of sample `index`'s `values`.
pub(super) fn check_finite(name: &'static str, index: usize, values: &[f32]) -> Result<()> {
    // One pass that vectorizes; the position is looked for only when something is wrong.
    if crate::kernels::all_finite(values) {
        return Ok(());
    }
    let (position, &value) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !v.is_finite())
        .unwrap_or((0, &f32::NAN));
    Err(Error::NonFiniteInput {
        name,
        index,
        position,
        value,
    })
}
