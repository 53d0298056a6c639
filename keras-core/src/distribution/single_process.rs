//! [`SingleProcess`]: one process training alone (the default distribution).

use super::Distribution;
use crate::Result;

/// One process training alone: every collective is the identity. What `fit` uses unless
/// given a distribution; it behaves exactly as `fit` without one.
///
/// # Examples
/// ```
/// use keras_core::distribution::{Distribution, SingleProcess};
///
/// let mut v = [1.0f32, 2.0];
/// SingleProcess.all_reduce_sum(&mut v)?;
/// assert_eq!(v, [1.0, 2.0]);
/// assert!(SingleProcess.is_chief());
/// assert_eq!(SingleProcess.all_gather(&[3.0])?, vec![vec![3.0]]);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SingleProcess;

impl Distribution for SingleProcess {
    fn rank(&self) -> usize {
        0
    }

    fn num_processes(&self) -> usize {
        1
    }

    fn all_reduce_sum(&self, _values: &mut [f32]) -> Result<()> {
        Ok(())
    }

    fn all_reduce_sum_f64(&self, _values: &mut [f64]) -> Result<()> {
        Ok(())
    }

    fn broadcast(&self, _values: &mut [f32]) -> Result<()> {
        Ok(())
    }

    fn all_gather(&self, local: &[f32]) -> Result<Vec<Vec<f32>>> {
        Ok(vec![local.to_vec()])
    }
}
