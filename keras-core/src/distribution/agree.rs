//! Decisions every process takes together: start-up checks that all processes agree, and flags
//! raised on any process.

use super::Distribution;
use crate::{Error, Result};

/// Checks that every process passes the same `values` (named by `what`, one name per value),
/// failing on every process with [`Error::DistributionMismatch`] naming the first difference.
pub(crate) fn check_agree(
    dist: &impl Distribution,
    what: &[&'static str],
    values: &[f64],
) -> Result<()> {
    if dist.num_processes() == 1 {
        return Ok(());
    }
    let local: Vec<f32> = values
        .iter()
        .flat_map(|&v| {
            // Exact for any u64 up to 2^48: split into two 24-bit halves.
            let v = v as u64;
            [(v >> 24) as f32, (v & 0xff_ffff) as f32]
        })
        .collect();
    let all = dist.all_gather(&local)?;
    let join = |p: &[f32], i: usize| ((p[2 * i] as u64) << 24) | p[2 * i + 1] as u64;
    for (rank, theirs) in all.iter().enumerate().skip(1) {
        for (i, name) in what.iter().enumerate() {
            let (expected, got) = (join(&all[0], i), join(theirs, i));
            if expected != got {
                return Err(Error::DistributionMismatch {
                    what: name,
                    rank,
                    expected: expected.to_string(),
                    got: got.to_string(),
                });
            }
        }
    }
    Ok(())
}

/// Whether `flag` is set on any process (a stop request, a callback reading batch logs), so
/// that every process takes the same branch.
pub(crate) fn any_process(dist: &impl Distribution, flag: bool) -> Result<bool> {
    if dist.num_processes() == 1 {
        return Ok(flag);
    }
    let mut v = [f64::from(u8::from(flag))];
    dist.all_reduce_sum_f64(&mut v)?;
    Ok(v[0] > 0.0)
}
