//! [`Sharded`]: one process's contiguous shard of every batch of a data-parallel `fit`.

use super::{Batch, BatchShard, DataAdapter};
use crate::Result;

/// Wraps an adapter so that each batch it yields keeps only this process's contiguous shard:
/// of a global batch of `n` samples, process `rank` of `ranks` keeps samples
/// `rank * n / ranks .. (rank + 1) * n / ranks` (rounded down), so shards differ by at most one
/// sample and a batch smaller than `ranks` leaves some processes an empty shard. The batch
/// records the global batch's size and weight sum ([`Batch::shard`]).
///
/// Every process assembles the whole global batch (the same one: the shuffle seed is shared)
/// and keeps its part, so checks on the data (`check_finite`, class ids) fail on every process
/// alike. With `ranks == 1` batches pass through untouched.
///
/// # Examples
/// ```
/// use keras_core::data::{ArrayAdapter, ArrayDataset, Batch, DataAdapter, Sharded};
/// use keras_core::target::Sparse;
/// use keras_core::dfdx::shapes::Rank1;
///
/// let data = ArrayDataset::<Rank1<1>, Sparse>::new((0..5).map(|i| i as f32).collect(), vec![0.0; 5])?;
/// let mut shard = Sharded::new(ArrayAdapter::new(&data, 5)?, 1, 2);
/// let mut batch = Batch::default();
/// shard.start_pass()?;
/// assert!(shard.next_batch(&mut batch)?);
/// assert_eq!(batch.x, [2.0, 3.0, 4.0]); // samples 2..5 of the global batch 0..5
/// assert_eq!(batch.shard.unwrap().global_size, 5);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug)]
pub struct Sharded<A> {
    inner: A,
    rank: usize,
    ranks: usize,
}

impl<A> Sharded<A> {
    /// Process `rank`'s shards (of `ranks`, at least 1) of `inner`'s batches.
    pub fn new(inner: A, rank: usize, ranks: usize) -> Self {
        Self {
            inner,
            rank,
            ranks: ranks.max(1),
        }
    }

    /// The range of a global batch of `n` samples that process `rank` of `ranks` keeps.
    pub fn range(n: usize, rank: usize, ranks: usize) -> std::ops::Range<usize> {
        (rank * n / ranks)..((rank + 1) * n / ranks)
    }
}

impl<A: DataAdapter> DataAdapter for Sharded<A> {
    fn num_batches(&self) -> Option<usize> {
        self.inner.num_batches()
    }

    fn start_pass(&mut self) -> Result<()> {
        self.inner.start_pass()
    }

    fn next_batch(&mut self, out: &mut Batch) -> Result<bool> {
        if !self.inner.next_batch(out)? {
            return Ok(false);
        }
        if self.ranks == 1 {
            return Ok(true);
        }
        let n = out.size;
        let keep = Self::range(n, self.rank, self.ranks);
        let global_weight_sum = out.weights().map(|w| w.iter().sum());
        let x_width = out.x.len().checked_div(n).unwrap_or(0);
        let y_width = out.y.len().checked_div(n).unwrap_or(0);
        keep_rows(&mut out.x, x_width, &keep);
        keep_rows(&mut out.y, y_width, &keep);
        if let Some(w) = &mut out.sample_weight {
            keep_rows(w, 1, &keep);
        }
        out.size = keep.len();
        out.shard = Some(BatchShard {
            global_size: n,
            global_weight_sum,
        });
        Ok(true)
    }
}

/// Keeps rows `keep` (of `width` values each) of `values`, moved to the front.
fn keep_rows(values: &mut Vec<f32>, width: usize, keep: &std::ops::Range<usize>) {
    values.copy_within(keep.start * width..keep.end * width, 0);
    values.truncate(keep.len() * width);
}

#[cfg(test)]
mod tests {
    use super::Sharded;

    #[test]
    fn shards_cover_the_batch_once_in_rank_order() {
        for ranks in 1..6 {
            for n in 0..12 {
                let mut next = 0;
                for rank in 0..ranks {
                    let r = Sharded::<()>::range(n, rank, ranks);
                    assert_eq!(r.start, next);
                    assert!(r.len() <= n.div_ceil(ranks) && r.len() >= n / ranks);
                    next = r.end;
                }
                assert_eq!(next, n);
            }
        }
    }
}
