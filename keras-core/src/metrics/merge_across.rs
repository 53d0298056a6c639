//! Combining a metric set's states across the processes of a distribution: [`MergeAcross`].

use super::MetricSet;
use crate::distribution::{Distribution, SingleProcess};
use crate::{target::Target, Error, Result};

/// A distribution that can combine a metric set's states across its processes: each process
/// keeps the states of its own shards, and the logs are written from their merge
/// ([`MetricFn::merge_state`](super::MetricFn::merge_state), through
/// [`state_values`](super::MetricFn::state_values)).
///
/// [`SingleProcess`] combines nothing. A multi-process distribution needs the set to be
/// `Clone` (every built-in metric is), to hold the other processes' states while merging.
pub trait MergeAcross<Ms>: Distribution {
    /// The merge of every process's `set`, or `None` when `set` alone is the whole.
    fn merged<const K: usize, T: Target>(&self, set: &Ms) -> Result<Option<Ms>>
    where
        Ms: MetricSet<K, T>;
}

impl<Ms> MergeAcross<Ms> for SingleProcess {
    fn merged<const K: usize, T: Target>(&self, _set: &Ms) -> Result<Option<Ms>>
    where
        Ms: MetricSet<K, T>,
    {
        Ok(None)
    }
}

impl<Ms, D: MergeAcross<Ms>> MergeAcross<Ms> for &D {
    fn merged<const K: usize, T: Target>(&self, set: &Ms) -> Result<Option<Ms>>
    where
        Ms: MetricSet<K, T>,
    {
        (**self).merged::<K, T>(set)
    }
}

#[cfg(feature = "mpi")]
impl<Ms: Clone> MergeAcross<Ms> for crate::distribution::DataParallel {
    fn merged<const K: usize, T: Target>(&self, set: &Ms) -> Result<Option<Ms>>
    where
        Ms: MetricSet<K, T>,
    {
        merge_states::<K, T, Ms>(self, set)
    }
}

/// Gathers every process's states of `set` and merges them, in rank order, into a copy.
#[cfg_attr(not(feature = "mpi"), allow(dead_code))]
pub(crate) fn merge_states<const K: usize, T: Target, Ms>(
    dist: &impl Distribution,
    set: &Ms,
) -> Result<Option<Ms>>
where
    Ms: MetricSet<K, T> + Clone,
{
    if dist.num_processes() == 1 || set.is_empty() {
        return Ok(None);
    }
    // Packed as [len, values..] per member; a member without an exportable state is -1.
    let mut packed = Vec::new();
    for state in set.state_values_all() {
        match state {
            Some(values) => {
                packed.push(values.len() as f32);
                packed.extend_from_slice(&values);
            }
            None => packed.push(-1.0),
        }
    }
    let gathered = dist.all_gather(&packed)?;
    let mut merged: Option<Ms> = None;
    for (rank, packed) in gathered.iter().enumerate() {
        let states = unpack(packed, rank)?;
        let mut part = set.clone();
        part.load_state_values_all(&states)?;
        match &mut merged {
            None => merged = Some(part),
            Some(m) => m.merge_all(&part)?,
        }
    }
    Ok(merged)
}

fn unpack(packed: &[f32], rank: usize) -> Result<Vec<Option<Vec<f32>>>> {
    let mut states = Vec::new();
    let mut at = 0;
    while at < packed.len() {
        let len = packed[at];
        at += 1;
        if len < 0.0 {
            return Err(Error::invalid(
                "metrics",
                format!("process {rank} has a metric that cannot export its state, so data-parallel logs cannot combine it"),
            ));
        }
        let end = at + len as usize;
        states.push(Some(packed.get(at..end).unwrap_or_default().to_vec()));
        at = end;
    }
    Ok(states)
}
