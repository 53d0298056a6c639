//! Threshold lists of the confusion-matrix metrics, built as Keras builds them.

use crate::{Error, Result};

/// Keras's `metrics_utils.NEG_INF`, the threshold used with `top_k`.
const NEG_INF: f32 = -1e10;

/// A threshold list (stored in `f32`, as Keras's variables) and whether it is evenly spaced over
/// `[0, 1]`, which selects Keras's bucketed update (`_update_confusion_matrix_variables_optimized`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Thresholds {
    values: Vec<f32>,
    evenly: bool,
}

/// Rejects thresholds outside `[0, 1]` (Keras's `assert_thresholds_range`) and empty lists.
fn check_range(name: &'static str, list: &[f32]) -> Result<()> {
    if list.is_empty() {
        return Err(Error::invalid(name, "give at least one threshold"));
    }
    if let Some(t) = list.iter().find(|t| !(0.0..=1.0).contains(*t)) {
        return Err(Error::invalid(
            name,
            format!("threshold values must be in [0, 1], got {t}"),
        ));
    }
    Ok(())
}

/// Keras's `is_evenly_distributed_thresholds`: at least 3 values, `np.allclose` to
/// `arange(n, float32) / (n - 1)` with `atol = 1e-7`.
fn is_evenly_distributed(list: &[f64]) -> bool {
    let n = list.len();
    n >= 3
        && list.iter().enumerate().all(|(i, &t)| {
            let even = (i as f32 / (n - 1) as f32) as f64;
            (t - even).abs() <= 1e-7 + 1e-5 * even.abs()
        })
}

impl Thresholds {
    /// `parse_init_thresholds`: the user's list, or `[0.5]` by default, or `[NEG_INF]` with
    /// `top_k`.
    pub(crate) fn parse(list: Option<&[f32]>, top_k: bool) -> Result<Self> {
        match list {
            Some(list) => {
                check_range("thresholds", list)?;
                let wide: Vec<f64> = list.iter().map(|&t| t as f64).collect();
                Ok(Self {
                    values: list.to_vec(),
                    evenly: is_evenly_distributed(&wide),
                })
            }
            None => Ok(Self::default_for(top_k)),
        }
    }

    /// `[0.5]`, or `[NEG_INF]` with `top_k`.
    pub(crate) fn default_for(top_k: bool) -> Self {
        Self {
            values: vec![if top_k { NEG_INF } else { 0.5 }],
            evenly: false,
        }
    }

    /// AUC's `num_thresholds` list: `[-eps, 1/(n-1), ..., (n-2)/(n-1), 1 + eps]`.
    pub(crate) fn auc(num_thresholds: usize) -> Result<Self> {
        if num_thresholds <= 1 {
            return Err(Error::invalid(
                "num_thresholds",
                format!("must be an integer > 1, got {num_thresholds}"),
            ));
        }
        Ok(Self::auc_grid(num_thresholds))
    }

    /// [`Thresholds::auc`] for a `num_thresholds` already known to be at least 2.
    pub(crate) fn auc_grid(num_thresholds: usize) -> Self {
        let inner: Vec<f64> = (0..num_thresholds.saturating_sub(2))
            .map(|i| (i + 1) as f64 / (num_thresholds - 1) as f64)
            .collect();
        Self::with_endpoints(&inner, true)
    }

    /// AUC's explicit `thresholds`: sorted, then wrapped in `-eps` and `1 + eps`.
    pub(crate) fn auc_explicit(list: &[f32]) -> Result<Self> {
        check_range("thresholds", list)?;
        let mut inner: Vec<f64> = list.iter().map(|&t| t as f64).collect();
        inner.sort_by(f64::total_cmp);
        let mut probe = vec![0.0];
        probe.extend(&inner);
        probe.push(1.0);
        Ok(Self::with_endpoints(&inner, is_evenly_distributed(&probe)))
    }

    fn with_endpoints(inner: &[f64], evenly: bool) -> Self {
        let eps = 1e-7f64;
        let mut values = vec![(0.0 - eps) as f32];
        values.extend(inner.iter().map(|&t| t as f32));
        values.push((1.0 + eps) as f32);
        Self { values, evenly }
    }

    /// The grid of `SensitivitySpecificityBase`: `[0.5]` for one threshold, else
    /// `[0, 1/(n-1), ..., 1]`.
    pub(crate) fn grid(num_thresholds: usize) -> Result<Self> {
        match num_thresholds {
            0 => Err(Error::invalid(
                "num_thresholds",
                "must be an integer > 0, got 0",
            )),
            1 => Ok(Self {
                values: vec![0.5],
                evenly: false,
            }),
            n => {
                let mut values = vec![0.0];
                values.extend((0..n - 2).map(|i| ((i + 1) as f64 / (n - 1) as f64) as f32));
                values.push(1.0);
                Ok(Self {
                    values,
                    evenly: true,
                })
            }
        }
    }

    /// The thresholds, in `f32`.
    pub(crate) fn values(&self) -> &[f32] {
        &self.values
    }

    /// Number of thresholds.
    pub(crate) fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether Keras takes its bucketed path for this list.
    pub(crate) fn evenly(&self) -> bool {
        self.evenly
    }

    /// Whether the end points lie outside `[0, 1]` (AUC's `-eps` / `1 + eps`).
    pub(crate) fn with_epsilon(&self) -> bool {
        self.values[0] < 0.0 || self.values[self.values.len() - 1] > 1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_thresholds_are_rounded_to_f32_with_epsilon_end_points() {
        let t = Thresholds::auc(3).unwrap();
        assert_eq!(t.values(), [-1e-7f64 as f32, 0.5, 1.0000001]);
        assert!(t.evenly() && t.with_epsilon());
    }

    #[test]
    fn a_short_list_is_never_evenly_distributed() {
        assert!(!Thresholds::parse(Some(&[0.0, 1.0]), false)
            .unwrap()
            .evenly());
        assert!(Thresholds::parse(Some(&[0.0, 0.5, 1.0]), false)
            .unwrap()
            .evenly());
    }

    #[test]
    fn thresholds_outside_the_unit_interval_are_rejected() {
        for list in [&[1.5f32][..], &[-0.1], &[]] {
            assert!(Thresholds::parse(Some(list), false).is_err());
            assert!(Thresholds::auc_explicit(list).is_err());
        }
    }

    #[test]
    fn the_grid_has_no_epsilon_end_points() {
        let t = Thresholds::grid(3).unwrap();
        assert_eq!(t.values(), [0.0, 0.5, 1.0]);
        assert!(!t.with_epsilon());
        assert!(Thresholds::grid(0).is_err());
    }
}
