//! Where a run stands in its data: passes started and batches into the current one.

/// Where an [`EpochIterator`](crate::data::EpochIterator) stands in its data between two groups of batches: enough to
/// continue a run exactly where it stopped, since the sample order of a pass is a pure function
/// of the shuffle seed and the pass number.
///
/// # Examples
/// ```
/// use keras_core::data::{ArrayAdapter, ArrayDataset, EpochIterator};
/// use keras_core::dfdx::shapes::Rank1;
/// use keras_core::target::Dense;
/// let data = ArrayDataset::<Rank1<1>, Dense<1>>::new((0..6).map(|i| i as f32).collect(), vec![0.0; 6])?;
/// let mut it = EpochIterator::new(ArrayAdapter::new(&data, 2)?, None, 1)?;
/// it.begin_epoch()?;
/// it.next_group()?;
/// let pos = it.position();
/// assert_eq!((pos.passes, pos.batches_into_pass, pos.pass_open), (1, 1, true));
/// // A fresh iterator over an adapter placed at that position continues with the second batch.
/// let adapter = ArrayAdapter::new(&data, 2)?.with_position(pos.passes, Some(pos.batches_into_pass));
/// let mut resumed = EpochIterator::new(adapter, None, 1)?;
/// resumed.restore(&pos, 1)?;
/// let (step, batches) = resumed.next_group()?.unwrap();
/// assert_eq!((step.begin, batches[0].x.clone()), (1, vec![2.0, 3.0]));
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DataPosition {
    /// Passes over the data started so far.
    pub passes: u64,
    /// Batches taken from the current pass.
    pub batches_into_pass: usize,
    /// Whether the current pass continues (it was not exhausted).
    pub pass_open: bool,
    /// Batches in one full pass, when known (learned for generators).
    pub num_batches: Option<usize>,
}

impl DataPosition {
    /// Whether a run restored at this position, `epoch_step` batches into an epoch, continues
    /// the current pass (rather than starting a new one): the adapter must then be placed at
    /// batch [`batches_into_pass`](Self::batches_into_pass) of pass `passes - 1`.
    pub fn continues_pass(&self, epoch_step: usize, steps_per_epoch: Option<usize>) -> bool {
        self.pass_open && self.passes > 0 && (epoch_step > 0 || steps_per_epoch.is_some())
    }
}
