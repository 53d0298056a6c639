//! Tuples of metrics: Keras's metrics list, statically dispatched.

use super::Metric;
use crate::{target::Target, Result};

/// A set of metrics for a `K`-wide output and labels of layout `T`: `()` for none, `(A,)`,
/// `(A, B)`, ... up to 12 members, updated and reported in order.
pub trait MetricSet<const K: usize, T: Target> {
    /// Number of metrics in the set.
    const LEN: usize;

    /// Updates every metric with one batch.
    fn update_all(
        &mut self,
        y_true: &[f32],
        y_pred: &[f32],
        sample_weight: Option<&[f32]>,
    ) -> Result<()>;

    /// Calls `f(name, result)` for each metric, in order.
    fn visit_results(&self, f: &mut impl FnMut(&str, f32));

    /// Resets every metric.
    fn reset_all(&mut self);
}

impl<const K: usize, T: Target> MetricSet<K, T> for () {
    const LEN: usize = 0;

    fn update_all(&mut self, _: &[f32], _: &[f32], _: Option<&[f32]>) -> Result<()> {
        Ok(())
    }

    fn visit_results(&self, _: &mut impl FnMut(&str, f32)) {}

    fn reset_all(&mut self) {}
}

macro_rules! tuple_metric_set {
    ($($name:ident $idx:tt),+) => {
        impl<const K: usize, T: Target, $($name: Metric<K, Target = T>),+> MetricSet<K, T> for ($($name,)+) {
            const LEN: usize = [$($idx),+].len();

            fn update_all(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                sample_weight: Option<&[f32]>,
            ) -> Result<()> {
                $(self.$idx.update_state(y_true, y_pred, K, sample_weight)?;)+
                Ok(())
            }

            fn visit_results(&self, f: &mut impl FnMut(&str, f32)) {
                $(f(self.$idx.name(), self.$idx.result());)+
            }

            fn reset_all(&mut self) {
                $(self.$idx.reset_state();)+
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
