//! A list of metrics of one type: Keras's `metrics=[...]` when the list is built at run time.

use serde_json::Value;

use super::metric_set::{check_state_count, fits, no_member};
use super::{
    ColumnForm, ConfusionForm, Direction, IouForm, KerasMetrics, LossLabels, Metric, MetricFn,
    MetricSet, RowMetric,
};
use crate::{target::Target, Error, Result};

/// A `Vec` of metrics of one type is a [`MetricSet`] of any length, updated and reported in
/// order, as a tuple is: for a list chosen at run time (from a config, a command line), with an
/// enum over the metrics it may hold (statically dispatched, no boxing).
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanAbsoluteError, MetricSet};
/// use keras_core::target::Dense;
/// let mut list = vec![MeanAbsoluteError::default(); 3];
/// MetricSet::<1, Dense<1>>::update_all(&mut list, &[0.0, 1.0], &[1.0, 1.0], None).unwrap();
/// let mut seen = Vec::new();
/// MetricSet::<1, Dense<1>>::visit_results(&list, &mut |name, v| seen.push((name.to_string(), v)));
/// assert_eq!(seen, vec![("mae".to_string(), 0.5); 3]);
/// ```
impl<const K: usize, T: Target, M: Metric<K>> MetricSet<K, T> for Vec<M>
where
    T: LossLabels<M, <M as Metric<K>>::Target>,
{
    fn len(&self) -> usize {
        <[M]>::len(self)
    }

    fn update_all(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        fits::<K, M>();
        for m in self.iter_mut() {
            m.update_state(y_true, y_pred, K, sample_weight)?;
        }
        Ok(())
    }

    fn visit_results(&self, f: &mut impl FnMut(&str, f32)) {
        for m in self {
            f(m.name(), m.result());
        }
    }

    fn visit_directions(&self, f: &mut impl FnMut(&str, Direction)) {
        for m in self {
            f(m.name(), m.direction());
        }
    }

    fn reset_all(&mut self) {
        for m in self.iter_mut() {
            m.reset_state();
        }
    }

    /// Merges member by member; a list of another length is an error and changes nothing.
    fn merge_all(&mut self, other: &Self) -> Result<()> {
        if other.len() != <[M]>::len(self) {
            return Err(Error::invalid(
                "metrics",
                format!(
                    "cannot merge a list of {} metrics into one of {}",
                    other.len(),
                    <[M]>::len(self)
                ),
            ));
        }
        for (m, o) in self.iter_mut().zip(other) {
            m.merge_state(o)?;
        }
        Ok(())
    }

    fn state_values_all(&self) -> Vec<Option<Vec<f32>>> {
        self.iter().map(MetricFn::state_values).collect()
    }

    fn load_state_values_all(&mut self, states: &[Option<Vec<f32>>]) -> Result<()> {
        check_state_count(states.len(), <[M]>::len(self))?;
        for (m, state) in self.iter_mut().zip(states) {
            match state {
                Some(values) => m.load_state_values(values)?,
                None => m.reset_state(),
            }
        }
        Ok(())
    }

    fn visit_row_forms(&self, f: &mut impl FnMut(usize, Option<RowMetric>)) {
        for (i, m) in self.iter().enumerate() {
            f(i, m.row_form());
        }
    }

    fn visit_column_forms(&self, f: &mut impl FnMut(usize, Option<ColumnForm>)) {
        for (i, m) in self.iter().enumerate() {
            f(i, m.column_form());
        }
    }

    fn visit_iou_forms(&self, f: &mut impl FnMut(usize, Option<IouForm>)) {
        for (i, m) in self.iter().enumerate() {
            f(i, m.iou_form());
        }
    }

    fn prepare_all(&mut self, cols: usize) -> Result<()> {
        self.iter_mut().try_for_each(|m| m.prepare(cols))
    }

    fn any_host_member(&self) -> bool {
        self.iter().any(|m| !m.has_device_form())
    }

    fn visit_confusion_forms(&self, f: &mut impl FnMut(usize, Option<ConfusionForm<'_>>)) {
        for (i, m) in self.iter().enumerate() {
            f(i, m.confusion_form());
        }
    }

    fn update_host_members(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        for m in self.iter_mut().filter(|m| !m.has_device_form()) {
            m.update_state(y_true, y_pred, K, sample_weight)?;
        }
        Ok(())
    }

    fn load_member_state(&mut self, index: usize, values: &[f32]) -> Result<()> {
        match self.get_mut(index) {
            Some(m) => m.load_state_values(values),
            None => Err(no_member(index)),
        }
    }
}

/// The Keras forms of a list's members, in order.
impl<M: MetricFn> KerasMetrics for Vec<M> {
    fn keras_configs(&self) -> Vec<Value> {
        self.iter().filter_map(MetricFn::keras_config).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{CategoricalAccuracy, MeanSquaredError};
    use crate::target::Dense;

    /// `(name, result)` of every member, in order.
    fn results<S: MetricSet<3, Dense<3>>>(set: &S) -> Vec<(String, f32)> {
        let mut out = Vec::new();
        set.visit_results(&mut |name, v| out.push((name.to_string(), v)));
        out
    }

    #[test]
    fn a_list_updates_reports_and_restores_every_member_as_a_tuple_does() {
        let y_true = [0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
        let y_pred = [0.2, 0.7, 0.1, 0.6, 0.3, 0.1];
        let mut list = vec![MeanSquaredError::default(); 2];
        let mut tuple = (MeanSquaredError::default(), MeanSquaredError::default());
        MetricSet::<3, Dense<3>>::update_all(&mut list, &y_true, &y_pred, None).unwrap();
        MetricSet::<3, Dense<3>>::update_all(&mut tuple, &y_true, &y_pred, None).unwrap();
        assert_eq!(results(&list), results(&tuple));
        assert_eq!(results(&list).len(), 2);

        let states = MetricSet::<3, Dense<3>>::state_values_all(&list);
        let mut restored = vec![MeanSquaredError::default(); 2];
        MetricSet::<3, Dense<3>>::load_state_values_all(&mut restored, &states).unwrap();
        assert_eq!(results(&restored), results(&list));
        let short = MetricSet::<3, Dense<3>>::load_state_values_all(&mut restored, &states[..1]);
        assert!(short.is_err());
    }

    #[test]
    fn merging_a_list_of_another_length_is_an_error_that_changes_nothing() {
        let y_true = [0.0, 1.0, 0.0];
        let y_pred = [0.2, 0.7, 0.1];
        let mut one = vec![CategoricalAccuracy::default()];
        MetricSet::<3, Dense<3>>::update_all(&mut one, &y_true, &y_pred, None).unwrap();
        let two = vec![
            CategoricalAccuracy::default(),
            CategoricalAccuracy::default(),
        ];
        assert!(MetricSet::<3, Dense<3>>::merge_all(&mut one, &two).is_err());
        assert_eq!(one[0].result(), 1.0);
        assert_eq!(MetricSet::<3, Dense<3>>::len(&one), 1);
    }
}
