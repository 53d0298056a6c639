//! Keras's `EpochIterator`: steps per epoch, step numbering, `steps_per_execution`, running out
//! of data, and passes that continue across epochs when `steps_per_epoch` is set.

use super::{Batch, DataAdapter};
use crate::state::DataPosition;
use crate::{Error, Result};

/// A group of batches handed to the trainer: Keras's `(begin_step, end_step)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Index of the group's first batch in the epoch (0-based).
    pub begin: usize,
    /// Index of its last batch.
    pub end: usize,
}

#[derive(Debug, Clone, Copy)]
enum Mode {
    Known(usize),
    Unknown,
}

/// Iterates a [`DataAdapter`] epoch by epoch, exactly as Keras's `EpochIterator`:
///
/// - without `steps_per_epoch`, each epoch is one full pass;
/// - with `steps_per_epoch`, the pass continues across epochs and restarts only once the data
///   is exhausted; an epoch that reaches the end of the data early stops there ("your input ran
///   out of data", see [`EpochIterator::ran_out_of_data`]);
/// - for data of unknown length, the number of batches is learned when it first runs out;
/// - batches come in groups of `steps_per_execution`, numbered `(begin, end)`.
///
/// # Examples
/// ```
/// use keras_core::data::{ArrayAdapter, ArrayDataset, EpochIterator};
/// use keras_core::dfdx::shapes::Rank1;
/// use keras_core::target::Dense;
/// let data = ArrayDataset::<Rank1<1>, Dense<1>>::new(vec![0.0; 5], vec![0.0; 5]).unwrap();
/// let mut it = EpochIterator::new(ArrayAdapter::new(&data, 2).unwrap(), None, 1).unwrap();
/// it.begin_epoch().unwrap();
/// let mut sizes = Vec::new();
/// while let Some((_, batches)) = it.next_group().unwrap() {
///     sizes.push(batches[0].size);
/// }
/// assert_eq!(sizes, [2, 2, 1]);
/// ```
#[derive(Debug)]
pub struct EpochIterator<A: DataAdapter> {
    adapter: A,
    steps_per_epoch: Option<usize>,
    steps_per_execution: usize,
    num_batches: Option<usize>,
    passes: u64,
    steps_seen: usize,
    pass_open: bool,
    mode: Mode,
    step: usize,
    epoch_open: bool,
    ran_out: bool,
    buffers: Vec<Batch>,
}

impl<A: DataAdapter> EpochIterator<A> {
    /// Iterates `adapter`; `steps_per_epoch` as Keras's `fit` argument, `steps_per_execution`
    /// at least 1.
    pub fn new(
        adapter: A,
        steps_per_epoch: Option<usize>,
        steps_per_execution: usize,
    ) -> Result<Self> {
        if steps_per_epoch == Some(0) {
            return Err(Error::invalid(
                "steps_per_epoch",
                "must be at least 1, or None for one full pass",
            ));
        }
        if steps_per_execution == 0 {
            return Err(Error::invalid("steps_per_execution", "must be at least 1"));
        }
        let num_batches = adapter.num_batches();
        Ok(Self {
            adapter,
            steps_per_epoch,
            steps_per_execution,
            num_batches,
            passes: 0,
            steps_seen: 0,
            pass_open: false,
            mode: Mode::Unknown,
            step: 0,
            epoch_open: false,
            ran_out: false,
            // Grown as groups fill up (see `next_group`): `steps_per_execution` may be far larger
            // than the data has batches (Keras then runs a whole epoch as one group).
            buffers: vec![Batch::default()],
        })
    }

    /// Batches in one full pass, when known (learned for generators after their first pass).
    pub fn num_batches(&self) -> Option<usize> {
        self.num_batches
    }

    /// Steps the coming epoch will run, when known.
    pub fn steps(&self) -> Option<usize> {
        self.steps_per_epoch.or(self.num_batches)
    }

    /// Whether the last epoch stopped early because the data ran out before `steps_per_epoch`
    /// (Keras warns: supply at least `steps_per_epoch * epochs` batches).
    pub fn ran_out_of_data(&self) -> bool {
        self.ran_out
    }

    /// The adapter.
    pub fn adapter(&self) -> &A {
        &self.adapter
    }

    /// Starts an epoch.
    pub fn begin_epoch(&mut self) -> Result<()> {
        self.ran_out = false;
        self.step = 0;
        self.epoch_open = true;
        match self.steps_per_epoch.or(self.num_batches) {
            Some(spe) => {
                self.mode = Mode::Known(spe);
                if !self.pass_open || self.steps_per_epoch.is_none() {
                    self.open_pass()?;
                }
            }
            None => {
                self.mode = Mode::Unknown;
                self.open_pass()?;
            }
        }
        Ok(())
    }

    fn open_pass(&mut self) -> Result<()> {
        self.adapter.start_pass()?;
        self.passes += 1;
        self.steps_seen = 0;
        self.pass_open = true;
        Ok(())
    }

    /// Where the iterator stands in the data (see [`DataPosition`]).
    pub fn position(&self) -> DataPosition {
        DataPosition {
            passes: self.passes,
            batches_into_pass: self.steps_seen,
            pass_open: self.pass_open,
            num_batches: self.num_batches,
        }
    }

    /// Puts a fresh iterator back at `position`, `epoch_step` batches into an epoch (0: between
    /// epochs; call [`begin_epoch`](Self::begin_epoch) next as usual; otherwise the epoch is open
    /// and [`next_group`](Self::next_group) continues it, numbering steps from `epoch_step`).
    ///
    /// No batch is read to get there: when the position continues a pass
    /// ([`DataPosition::continues_pass`]), the adapter's next `start_pass` must continue that
    /// pass at that batch, as an [`ArrayAdapter`](super::ArrayAdapter) placed with
    /// [`with_position`](super::ArrayAdapter::with_position) does.
    pub fn restore(&mut self, position: &DataPosition, epoch_step: usize) -> Result<()> {
        if self.passes != 0 || self.epoch_open {
            return Err(Error::invalid(
                "position",
                "an iterator can only be restored before its first epoch",
            ));
        }
        if let (Some(saved), Some(now)) = (position.num_batches, self.num_batches) {
            if saved != now {
                return Err(Error::invalid(
                    "position",
                    format!("saved for {saved} batches per pass, but the data has {now}"),
                ));
            }
        }
        self.num_batches = self.num_batches.or(position.num_batches);
        self.passes = position.passes;
        self.steps_seen = position.batches_into_pass;
        self.pass_open = position.continues_pass(epoch_step, self.steps_per_epoch);
        if self.pass_open {
            self.adapter.start_pass()?;
        }
        if epoch_step > 0 {
            self.ran_out = false;
            self.step = epoch_step;
            self.epoch_open = true;
            self.mode = match self.steps_per_epoch.or(self.num_batches) {
                Some(spe) => Mode::Known(spe),
                None => Mode::Unknown,
            };
        }
        Ok(())
    }

    fn end_epoch(&mut self) {
        self.epoch_open = false;
        if let Some(nb) = self.num_batches {
            if self.steps_seen >= nb {
                self.pass_open = false;
            }
        }
    }

    /// The next group of batches of this epoch, or `None` when the epoch is over.
    pub fn next_group(&mut self) -> Result<Option<(Step, &[Batch])>> {
        if !self.epoch_open {
            return Ok(None);
        }
        if let Mode::Known(spe) = self.mode {
            if self.step >= spe {
                self.end_epoch();
                return Ok(None);
            }
            if let Some(nb) = self.num_batches {
                if self.steps_seen >= nb {
                    self.ran_out = self.steps_per_epoch.is_some();
                    self.end_epoch();
                    return Ok(None);
                }
            }
        }
        let mut pulled = 0;
        while pulled < self.steps_per_execution {
            if let Mode::Known(spe) = self.mode {
                if self.step + pulled >= spe {
                    break;
                }
            }
            if pulled == self.buffers.len() {
                self.buffers.push(Batch::default());
            }
            if !self.adapter.next_batch(&mut self.buffers[pulled])? {
                // The data ran out: learn its length, close the pass.
                if self.num_batches.is_none() {
                    self.num_batches = Some(self.steps_seen + pulled);
                }
                if self.steps_per_epoch.is_some() {
                    self.ran_out = true;
                }
                self.steps_seen = self.num_batches.unwrap_or(self.steps_seen + pulled);
                self.pass_open = false;
                self.epoch_open = pulled > 0;
                break;
            }
            pulled += 1;
        }
        if pulled == 0 {
            self.end_epoch();
            return Ok(None);
        }
        if self.pass_open {
            self.steps_seen += pulled;
        }
        let step = Step {
            begin: self.step,
            end: self.step + pulled - 1,
        };
        self.step += pulled;
        if !self.epoch_open {
            // Ran out mid-group: this group is the epoch's last.
            self.epoch_open = true;
            self.mode = Mode::Known(self.step);
        }
        Ok(Some((step, &self.buffers[..pulled])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{ArrayAdapter, ArrayDataset, GeneratorAdapter, Shuffle};
    use crate::target::Dense;
    use dfdx::shapes::Rank1;

    fn data(n: usize) -> ArrayDataset<Rank1<1>, Dense<1>> {
        let x: Vec<f32> = (0..n).map(|i| i as f32).collect();
        ArrayDataset::new(x.clone(), x).unwrap()
    }

    fn epoch_of<A: DataAdapter>(it: &mut EpochIterator<A>) -> Vec<Vec<f32>> {
        it.begin_epoch().unwrap();
        let mut out = Vec::new();
        while let Some((_, batches)) = it.next_group().unwrap() {
            for b in batches {
                out.push(b.x.clone());
            }
        }
        out
    }

    #[test]
    fn one_epoch_is_one_pass_with_a_partial_last_batch() {
        let d = data(5);
        let mut it = EpochIterator::new(ArrayAdapter::new(&d, 2).unwrap(), None, 1).unwrap();
        let e = epoch_of(&mut it);
        assert_eq!(e, vec![vec![0.0, 1.0], vec![2.0, 3.0], vec![4.0]]);
        assert_eq!(epoch_of(&mut it), e);
    }

    #[test]
    fn steps_per_epoch_continues_the_pass_across_epochs_like_keras() {
        // 4 batches, 3 steps per epoch: epoch 0 takes batches 0-2, epoch 1 takes batch 3 and
        // then runs out (Keras interrupts it), epoch 2 starts a new pass.
        let d = data(8);
        let mut it = EpochIterator::new(ArrayAdapter::new(&d, 2).unwrap(), Some(3), 1).unwrap();
        assert_eq!(epoch_of(&mut it).len(), 3);
        let e1 = epoch_of(&mut it);
        assert_eq!(e1, vec![vec![6.0, 7.0]]);
        assert!(it.ran_out_of_data());
        let e2 = epoch_of(&mut it);
        assert_eq!(e2[0], vec![0.0, 1.0]);
        assert!(!it.ran_out_of_data());
    }

    #[test]
    fn steps_per_execution_groups_batches_and_numbers_them() {
        let d = data(5);
        let mut it = EpochIterator::new(ArrayAdapter::new(&d, 1).unwrap(), None, 2).unwrap();
        it.begin_epoch().unwrap();
        let mut steps = Vec::new();
        while let Some((s, b)) = it.next_group().unwrap() {
            steps.push((s.begin, s.end, b.len()));
        }
        assert_eq!(steps, [(0, 1, 2), (2, 3, 2), (4, 4, 1)]);
    }

    #[test]
    fn a_generator_teaches_the_iterator_its_length() {
        let gen = GeneratorAdapter::<Rank1<1>, Dense<1>, _, _>::new(|| {
            (0..3).map(|i| (vec![i as f32], vec![0.0]))
        });
        let mut it = EpochIterator::new(gen, None, 1).unwrap();
        assert_eq!(it.num_batches(), None);
        assert_eq!(epoch_of(&mut it).len(), 3);
        assert_eq!(it.num_batches(), Some(3));
        assert_eq!(epoch_of(&mut it).len(), 3);
    }

    /// Batches seen as (epoch, step, first x), and where a run stopped (epoch, position,
    /// epoch step).
    type Seen = Vec<(usize, usize, f32)>;
    type Stop = (usize, DataPosition, usize);

    /// Every batch of `epochs` epochs as (epoch, step, first x); with `stop_after`, stops
    /// after that many batches and returns where it stopped (epoch, position, epoch step).
    fn run(
        d: &ArrayDataset<Rank1<1>, Dense<1>>,
        spe: Option<usize>,
        epochs: usize,
        stop_after: Option<usize>,
    ) -> (Seen, Option<Stop>) {
        let adapter = ArrayAdapter::new(d, 3)
            .unwrap()
            .with_shuffle(Shuffle::Full, 5);
        let mut it = EpochIterator::new(adapter, spe, 1).unwrap();
        let mut out = Vec::new();
        for e in 0..epochs {
            it.begin_epoch().unwrap();
            while let Some((s, b)) = it.next_group().unwrap() {
                out.push((e, s.begin, b[0].x[0]));
                if Some(out.len()) == stop_after {
                    return (out, Some((e, it.position(), s.end + 1)));
                }
            }
        }
        (out, None)
    }

    fn resume(
        d: &ArrayDataset<Rank1<1>, Dense<1>>,
        spe: Option<usize>,
        epochs: usize,
        (epoch, pos, step): Stop,
    ) -> Seen {
        let continues = pos
            .continues_pass(step, spe)
            .then_some(pos.batches_into_pass);
        let adapter = ArrayAdapter::new(d, 3)
            .unwrap()
            .with_shuffle(Shuffle::Full, 5)
            .with_position(pos.passes, continues);
        let mut it = EpochIterator::new(adapter, spe, 1).unwrap();
        it.restore(&pos, step).unwrap();
        let mut out = Vec::new();
        for e in epoch..epochs {
            if e != epoch || step == 0 {
                it.begin_epoch().unwrap();
            }
            while let Some((s, b)) = it.next_group().unwrap() {
                out.push((e, s.begin, b[0].x[0]));
            }
        }
        out
    }

    #[test]
    fn a_restored_iterator_continues_exactly_where_the_first_stopped() {
        let d = data(14);
        for spe in [None, Some(3), Some(4), Some(7)] {
            let (all, _) = run(&d, spe, 5, None);
            for k in 1..all.len() {
                let (head, point) = run(&d, spe, 5, Some(k));
                let (epoch, pos, step) = point.unwrap();
                let mut joined = head;
                joined.extend(resume(&d, spe, 5, (epoch, pos, step)));
                assert_eq!(joined, all, "steps_per_epoch {spe:?}, stopped after {k}");
            }
        }
    }

    #[test]
    fn only_a_fresh_iterator_can_be_restored() {
        let d = data(4);
        let mut it = EpochIterator::new(ArrayAdapter::new(&d, 2).unwrap(), None, 1).unwrap();
        it.begin_epoch().unwrap();
        let pos = it.position();
        assert!(it.restore(&pos, 0).is_err());
    }

    #[test]
    fn zero_steps_per_epoch_is_rejected() {
        let d = data(2);
        let err = EpochIterator::new(ArrayAdapter::new(&d, 1).unwrap(), Some(0), 1).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                name: "steps_per_epoch",
                ..
            }
        ));
    }
}
