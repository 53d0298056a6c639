//! Tuples of metrics: Keras's metrics list, statically dispatched (a `Vec` of one type is in
//! `metric_list.rs`).

use super::{ColumnForm, ConfusionForm, Direction, IouForm, Metric, RowMetric};
use crate::{target::Target, Result};

/// A set of metrics for a `K`-wide output and labels of layout `T`: `()` for none, `(A,)`,
/// `(A, B)`, ... up to 12 members, or a `Vec` of one metric type (any length, e.g. an enum
/// over the metrics a config may name), updated and reported in order.
///
/// [`update_all`](MetricSet::update_all) evaluates every member's
/// [`Metric::CHECK`], so a metric that does not fit the output width (`TopKCategoricalAccuracy<5>`
/// on a 3-class model, `OneHotMeanIoU<4>` on 3 outputs) fails the build.
///
/// # Examples
/// ```
/// use keras_core::metrics::{MeanAbsoluteError, MeanSquaredError, MetricSet};
/// use keras_core::target::Dense;
/// let mut set = (MeanSquaredError::default(), MeanAbsoluteError::default());
/// MetricSet::<1, Dense<1>>::update_all(&mut set, &[0.0, 1.0], &[1.0, 1.0], None).unwrap();
/// let mut seen = Vec::new();
/// MetricSet::<1, Dense<1>>::visit_results(&set, &mut |name, v| seen.push((name.to_string(), v)));
/// assert_eq!(seen, [("mean_squared_error".to_string(), 0.5), ("mae".to_string(), 0.5)]);
/// ```
pub trait MetricSet<const K: usize, T: Target> {
    /// Number of metrics in the set.
    fn len(&self) -> usize;

    /// Whether the set has no metrics.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Updates every metric with one batch.
    fn update_all(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        sample_weight: Option<&[f32]>,
    ) -> Result<()>;

    /// Calls `f(name, result)` for each metric, in order.
    fn visit_results(&self, f: &mut impl FnMut(&str, f32));

    /// Calls `f(name, direction)` for each metric, in order (for `EarlyStopping(mode="auto")`).
    fn visit_directions(&self, f: &mut impl FnMut(&str, Direction));

    /// Resets every metric.
    fn reset_all(&mut self);

    /// Merges the states of another set of the same metrics, member by member.
    fn merge_all(&mut self, other: &Self) -> Result<()>;

    /// Each member's [`MetricFn::state_values`](super::MetricFn::state_values), in order
    /// (`None` for a member that cannot export its state). Defaults to an empty list.
    fn state_values_all(&self) -> Vec<Option<Vec<f32>>> {
        Vec::new()
    }

    /// Restores states returned by [`state_values_all`](MetricSet::state_values_all), member
    /// by member; a member whose entry is `None` is reset. A list of the wrong length is an
    /// error. Defaults to accepting only an empty list.
    fn load_state_values_all(&mut self, states: &[Option<Vec<f32>>]) -> Result<()> {
        check_state_count(states.len(), 0)
    }

    /// Calls `f(index, form)` with each member's [`row_form`](super::MetricFn::row_form), in
    /// order. Defaults to no members.
    fn visit_row_forms(&self, f: &mut impl FnMut(usize, Option<RowMetric>)) {
        let _ = f;
    }

    /// Calls `f(index, form)` with each member's
    /// [`column_form`](super::MetricFn::column_form), in order. Defaults to no members.
    fn visit_column_forms(&self, f: &mut impl FnMut(usize, Option<ColumnForm>)) {
        let _ = f;
    }

    /// Calls `f(index, form)` with each member's [`iou_form`](super::MetricFn::iou_form), in
    /// order. Defaults to no members.
    fn visit_iou_forms(&self, f: &mut impl FnMut(usize, Option<IouForm>)) {
        let _ = f;
    }

    /// [`MetricFn::prepare`](super::MetricFn::prepare) on every member. Defaults to no members.
    fn prepare_all(&mut self, cols: usize) -> Result<()> {
        let _ = cols;
        Ok(())
    }

    /// Whether some member has no device form
    /// ([`MetricFn::has_device_form`](super::MetricFn::has_device_form)): its updates read the
    /// model's output on the host. Defaults to no members.
    fn any_host_member(&self) -> bool {
        false
    }

    /// Calls `f(index, form)` with each member's
    /// [`confusion_form`](super::MetricFn::confusion_form), in order. Defaults to no members.
    fn visit_confusion_forms(&self, f: &mut impl FnMut(usize, Option<ConfusionForm<'_>>)) {
        let _ = f;
    }

    /// Updates, like [`update_all`](MetricSet::update_all), only the members without a device
    /// form ([`MetricFn::has_device_form`](super::MetricFn::has_device_form)): the trainer
    /// keeps the others' states on the device. Defaults to no members.
    fn update_host_members(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        sample_weight: Option<&[f32]>,
    ) -> Result<()> {
        let _ = (y_true, y_pred, sample_weight);
        Ok(())
    }

    /// Restores member `index`'s state from values its
    /// [`state_values`](super::MetricFn::state_values) returned. An index past the set is an
    /// error.
    fn load_member_state(&mut self, index: usize, values: &[f32]) -> Result<()> {
        let _ = values;
        Err(no_member(index))
    }
}

pub(super) fn no_member(index: usize) -> crate::Error {
    crate::Error::invalid("state", format!("the metric set has no member {index}"))
}

pub(super) fn check_state_count(got: usize, expected: usize) -> Result<()> {
    if got == expected {
        Ok(())
    } else {
        Err(crate::Error::invalid(
            "state",
            format!("expected the states of {expected} metrics, got {got}"),
        ))
    }
}

impl<const K: usize, T: Target> MetricSet<K, T> for () {
    fn len(&self) -> usize {
        0
    }

    fn update_all(&mut self, _: &[f32], _: &[f32], _: Option<&[f32]>) -> Result<()> {
        Ok(())
    }

    fn visit_results(&self, _: &mut impl FnMut(&str, f32)) {}

    fn visit_directions(&self, _: &mut impl FnMut(&str, Direction)) {}

    fn reset_all(&mut self) {}

    fn merge_all(&mut self, _: &Self) -> Result<()> {
        Ok(())
    }
}

/// The loss's labels `Self` are the ones metric `M` takes (`X`): implemented only for `X` itself,
/// so that a metric of other labels than the loss's is one error naming the metric and both
/// label layouts.
#[diagnostic::on_unimplemented(
    message = "the metric `{M}` takes labels `{X}`, but the loss takes `{Self}`",
    label = "the loss decides the labels, and every metric must take the same",
    note = "compile a metric of the loss's labels: `SparseCategoricalAccuracy` (not `CategoricalAccuracy`) next to `SparseCategoricalCrossentropy`, and the other way round"
)]
pub trait LossLabels<M, X> {}

impl<M, X> LossLabels<M, X> for X {}

/// Evaluates `M::CHECK` for this output width (a build error when it fails), outside the tuple
/// macro so that the error points here and not at a macro invocation.
#[inline(always)]
pub(super) fn fits<const K: usize, M: Metric<K>>() {
    #[allow(clippy::let_unit_value)]
    let () = M::CHECK;
}

macro_rules! tuple_metric_set {
    ($($name:ident $idx:tt),+) => {
        impl<const K: usize, T: Target, $($name: Metric<K>),+> MetricSet<K, T> for ($($name,)+)
        where
            $(T: LossLabels<$name, <$name as Metric<K>>::Target>,)+
        {
            fn len(&self) -> usize {
                [$($idx),+].len()
            }

            fn update_all(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                sample_weight: Option<&[f32]>,
            ) -> Result<()> {
                $(
                    fits::<K, $name>();
                    self.$idx.update_state(y_true, y_pred, K, sample_weight)?;
                )+
                Ok(())
            }

            fn visit_results(&self, f: &mut impl FnMut(&str, f32)) {
                $(f(self.$idx.name(), self.$idx.result());)+
            }

            fn visit_directions(&self, f: &mut impl FnMut(&str, Direction)) {
                $(f(self.$idx.name(), self.$idx.direction());)+
            }

            fn reset_all(&mut self) {
                $(self.$idx.reset_state();)+
            }

            fn merge_all(&mut self, other: &Self) -> Result<()> {
                $(self.$idx.merge_state(&other.$idx)?;)+
                Ok(())
            }

            fn state_values_all(&self) -> Vec<Option<Vec<f32>>> {
                vec![$(self.$idx.state_values()),+]
            }

            fn load_state_values_all(&mut self, states: &[Option<Vec<f32>>]) -> Result<()> {
                check_state_count(states.len(), MetricSet::<K, T>::len(self))?;
                $(match &states[$idx] {
                    Some(values) => self.$idx.load_state_values(values)?,
                    None => self.$idx.reset_state(),
                })+
                Ok(())
            }

            fn visit_row_forms(&self, f: &mut impl FnMut(usize, Option<RowMetric>)) {
                $(f($idx, self.$idx.row_form());)+
            }

            fn visit_confusion_forms(&self, f: &mut impl FnMut(usize, Option<ConfusionForm<'_>>)) {
                $(f($idx, self.$idx.confusion_form());)+
            }

            fn any_host_member(&self) -> bool {
                $(!self.$idx.has_device_form())||+
            }

            fn visit_column_forms(&self, f: &mut impl FnMut(usize, Option<ColumnForm>)) {
                $(f($idx, self.$idx.column_form());)+
            }

            fn visit_iou_forms(&self, f: &mut impl FnMut(usize, Option<IouForm>)) {
                $(f($idx, self.$idx.iou_form());)+
            }

            fn prepare_all(&mut self, cols: usize) -> Result<()> {
                $(self.$idx.prepare(cols)?;)+
                Ok(())
            }

            fn update_host_members(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                sample_weight: Option<&[f32]>,
            ) -> Result<()> {
                // `Metric::CHECK` is evaluated by `update_all`, which every training step
                // instantiates beside this.
                $(
                    if !self.$idx.has_device_form() {
                        self.$idx.update_state(y_true, y_pred, K, sample_weight)?;
                    }
                )+
                Ok(())
            }

            fn load_member_state(&mut self, index: usize, values: &[f32]) -> Result<()> {
                match index {
                    $($idx => self.$idx.load_state_values(values),)+
                    _ => Err(no_member(index)),
                }
            }
        }
    };
}

tuple_metric_set!(A 0);
tuple_metric_set!(A 0, B 1);
tuple_metric_set!(A 0, B 1, C 2);
tuple_metric_set!(A 0, B 1, C 2, D 3);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, L 10);
tuple_metric_set!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, L 10, M 11);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::*;
    use crate::target::{Dense, Sparse};

    fn twelve() -> impl MetricSet<3, Dense<3>> {
        (
            Accuracy::default(),
            BinaryAccuracy::default(),
            CategoricalAccuracy::default(),
            TopKCategoricalAccuracy::<2>::new().unwrap(),
            BinaryCrossentropy::default(),
            CategoricalCrossentropy::default(),
            MeanSquaredError::default(),
            MeanAbsoluteError::default(),
            Precision::new(),
            Recall::new(),
            Auc::new(),
            F1Score::default(),
        )
    }

    #[test]
    fn a_twelve_member_tuple_reports_every_name_in_order() {
        let mut set = twelve();
        fn len_of<S: MetricSet<3, Dense<3>>>(s: &S) -> usize {
            s.len()
        }
        assert_eq!(len_of(&set), 12);
        let y_true = [0.0, 1.0, 0.0, 1.0, 0.0, 0.0];
        let y_pred = [0.2, 0.7, 0.1, 0.6, 0.3, 0.1];
        set.update_all(&y_true, &y_pred, None).unwrap();
        let mut names = Vec::new();
        let mut values = Vec::new();
        set.visit_results(&mut |name, v| {
            names.push(name.to_string());
            values.push(v);
        });
        assert_eq!(
            names,
            [
                "accuracy",
                "binary_accuracy",
                "categorical_accuracy",
                "top_k_categorical_accuracy",
                "binary_crossentropy",
                "categorical_crossentropy",
                "mean_squared_error",
                "mae",
                "precision",
                "recall",
                "auc",
                "f1_score",
            ]
        );
        // Both rows are classified correctly by arg-max and by the 0.5 threshold.
        assert_eq!(values[2], 1.0);
        assert_eq!(values[1], 1.0);
        assert_eq!((values[8], values[9]), (1.0, 1.0));
    }

    #[test]
    fn directions_follow_keras() {
        let set = twelve();
        let mut downs = Vec::new();
        set.visit_directions(&mut |name, d| {
            if d == Direction::Down {
                downs.push(name.to_string());
            }
        });
        assert_eq!(
            downs,
            [
                "binary_crossentropy",
                "categorical_crossentropy",
                "mean_squared_error",
                "mae"
            ]
        );
    }

    #[test]
    fn merging_two_sets_equals_one_pass_and_reset_clears() {
        let mut one = (
            SparseCategoricalAccuracy::default(),
            Mean::<Sparse>::default(),
        );
        let mut a = one.clone();
        let b_pred = [0.9, 0.1, 0.2, 0.8];
        MetricSet::<2, Sparse>::update_all(&mut one, &[0.0], &b_pred[..2], None).unwrap();
        MetricSet::<2, Sparse>::update_all(&mut one, &[0.0], &b_pred[2..], None).unwrap();
        let mut b = a.clone();
        MetricSet::<2, Sparse>::update_all(&mut a, &[0.0], &b_pred[..2], None).unwrap();
        MetricSet::<2, Sparse>::update_all(&mut b, &[0.0], &b_pred[2..], None).unwrap();
        MetricSet::<2, Sparse>::merge_all(&mut a, &b).unwrap();
        let collect = |s: &(SparseCategoricalAccuracy, Mean<Sparse>)| {
            let mut v = Vec::new();
            MetricSet::<2, Sparse>::visit_results(s, &mut |_, x| v.push(x));
            v
        };
        assert_eq!(collect(&a), collect(&one));
        assert_eq!(collect(&one), [0.5, 0.5]);
        MetricSet::<2, Sparse>::reset_all(&mut one);
        assert_eq!(collect(&one), [0.0, 0.0]);
    }

    #[test]
    fn saved_states_restore_every_member_and_a_missing_state_resets_its_member() {
        let mut set = (Mean::<Dense<1>>::default(), Auc::new());
        MetricSet::<1, Dense<1>>::update_all(&mut set, &[0.0, 1.0], &[0.25, 0.75], None).unwrap();
        let states = MetricSet::<1, Dense<1>>::state_values_all(&set);
        assert_eq!(states[0], Some(vec![1.0, 2.0]));
        assert!(states[1].is_some(), "AUC exports its confusion counts");
        let mut fresh = (Mean::<Dense<1>>::default(), Auc::new());
        MetricSet::<1, Dense<1>>::load_state_values_all(&mut fresh, &states).unwrap();
        let results = |s: &(Mean<Dense<1>>, Auc)| {
            let mut seen = Vec::new();
            MetricSet::<1, Dense<1>>::visit_results(s, &mut |_, v| seen.push(v));
            seen
        };
        assert_eq!(results(&fresh), results(&set));
        assert_eq!(results(&fresh)[0], 0.5);
        // A member saved as `None` (a metric that cannot export its state) is reset.
        let partial = [states[0].clone(), None];
        MetricSet::<1, Dense<1>>::load_state_values_all(&mut fresh, &partial).unwrap();
        assert_eq!(results(&fresh)[1], Auc::new().result());
        let err = MetricSet::<1, Dense<1>>::load_state_values_all(&mut fresh, &states[..1]);
        assert!(err.is_err());
    }
}
