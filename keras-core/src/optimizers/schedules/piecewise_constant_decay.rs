//! `keras.optimizers.schedules.PiecewiseConstantDecay`.

use super::LearningRateSchedule;
use crate::{Error, Result};

/// `values[0]` while `step <= boundaries[0]`, `values[i]` while
/// `boundaries[i-1] < step <= boundaries[i]`, and `values[last]` after the last boundary.
///
/// # Examples
/// ```
/// use keras_core::optimizers::schedules::{LearningRateSchedule, PiecewiseConstantDecay};
/// let s = PiecewiseConstantDecay::new(vec![10, 100], vec![1.0, 0.5, 0.1]).unwrap();
/// assert_eq!(s.learning_rate(10), 1.0);
/// assert_eq!(s.learning_rate(11), 0.5);
/// assert_eq!(s.learning_rate(101), 0.1);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct PiecewiseConstantDecay {
    boundaries: Vec<u64>,
    values: Vec<f32>,
}

impl PiecewiseConstantDecay {
    /// A step function. `boundaries` must be non-empty and strictly increasing, and `values`
    /// must hold one more entry than `boundaries`.
    pub fn new(boundaries: Vec<u64>, values: Vec<f64>) -> Result<Self> {
        if boundaries.is_empty() {
            return Err(Error::invalid("boundaries", "must hold at least one step"));
        }
        if values.len() != boundaries.len() + 1 {
            return Err(Error::invalid(
                "values",
                format!(
                    "must hold one more entry than `boundaries` ({}), got {}",
                    boundaries.len(),
                    values.len()
                ),
            ));
        }
        if boundaries.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::invalid(
                "boundaries",
                format!("must be strictly increasing, got {boundaries:?}"),
            ));
        }
        Ok(Self {
            boundaries,
            values: values.iter().map(|&v| v as f32).collect(),
        })
    }
}

impl LearningRateSchedule for PiecewiseConstantDecay {
    fn learning_rate(&self, step: u64) -> f32 {
        let i = self.boundaries.partition_point(|&b| b < step);
        self.values[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boundaries_belong_to_the_interval_they_close() {
        let s = PiecewiseConstantDecay::new(vec![1, 5], vec![0.3, 0.2, 0.1]).unwrap();
        let got: Vec<f32> = (0..7).map(|t| s.learning_rate(t)).collect();
        assert_eq!(got, [0.3, 0.3, 0.2, 0.2, 0.2, 0.2, 0.1]);
    }

    #[test]
    fn mismatched_lengths_and_unsorted_boundaries_are_rejected() {
        assert!(PiecewiseConstantDecay::new(vec![1, 5], vec![0.3, 0.2]).is_err());
        assert!(PiecewiseConstantDecay::new(vec![5, 1], vec![0.3, 0.2, 0.1]).is_err());
        assert!(PiecewiseConstantDecay::new(vec![], vec![0.3]).is_err());
    }
}
