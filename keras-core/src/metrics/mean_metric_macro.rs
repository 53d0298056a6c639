//! Keras's `MeanMetricWrapper`: a metric that is the weighted mean of one value per row.

/// Defines a metric that is Keras's `MeanMetricWrapper` around a per-row function: the struct
/// (holding only a [`MeanState`](super::MeanState)), [`MetricFn`](super::MetricFn) via
/// `MeanState::update_dense`, and [`Metric<K>`](super::Metric) on dense labels.
///
/// `$row` maps the label row `$t` and prediction row `$p` (both `&[f32]`) to the row's value.
/// Before the rows of each call:
/// - `per_call $batch = $setup,` binds `$batch` to `$setup(y_true)` (a whole-batch decision,
///   such as the hinge metrics' label mapping);
/// - `scratch $buf, ...;` binds each `$buf` to an empty `Vec<f32>` with room for one row, reused
///   by every row.
///
/// With `row_form = $form,` the metric reports `$form` as its
/// [`row_form`](super::MetricFn::row_form) (its rows must then be `$form.row(t, p)`, or
/// `$form.row_in(mapped, t, p)` for the hinge forms, whose batch decides the labels' mapping).
///
/// With `result = $finish,` the result is `$finish(total / count)` (the square root for
/// [`RootMeanSquaredError`](super::RootMeanSquaredError)) instead of the mean itself.
///
/// The metric's [`keras_config`](super::MetricFn::keras_config) is the Keras metric object of
/// the class `$name` (every such metric has Keras's class name), with `keras_args = $args,`
/// (a JSON object) after its name and dtype when given.
macro_rules! mean_metric {
    (
        $(#[$doc:meta])*
        $name:ident, $log:literal, $direction:ident,
        $(row_form = $form:expr,)?
        $(per_call $batch:ident = $setup:path,)?
        $(scratch $($buf:ident),+;)?
        $(result = $finish:path,)?
        $(keras_args = $args:expr,)?
        |$t:ident, $p:ident| $row:expr
    ) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Default)]
        pub struct $name {
            state: $crate::metrics::MeanState,
        }

        impl $crate::metrics::MetricFn for $name {
            fn name(&self) -> &str {
                $log
            }

            fn direction(&self) -> $crate::metrics::Direction {
                $crate::metrics::Direction::$direction
            }

            fn update_state(
                &mut self,
                y_true: &[f32],
                y_pred: &[f32],
                cols: usize,
                sample_weight: Option<&[f32]>,
            ) -> $crate::Result<()> {
                $(let $batch = $setup(y_true);)?
                $($(let mut $buf: Vec<f32> = Vec::with_capacity(cols);)+)?
                self.state
                    .update_dense(y_true, y_pred, cols, sample_weight, |$t, $p| $row)
            }

            fn result(&self) -> f32 {
                let mean = self.state.result();
                $(let mean = $finish(mean);)?
                mean
            }

            fn reset_state(&mut self) {
                self.state.reset();
            }

            fn merge_state(&mut self, other: &Self) -> $crate::Result<()> {
                self.state.merge(&other.state);
                Ok(())
            }

            fn state_values(&self) -> Option<Vec<f32>> {
                Some(vec![self.state.total, self.state.count])
            }

            $(fn row_form(&self) -> Option<$crate::metrics::RowMetric> {
                Some($form)
            })?

            fn load_state_values(&mut self, values: &[f32]) -> $crate::Result<()> {
                self.state = $crate::metrics::MeanState::from_values(values)?;
                Ok(())
            }

            fn keras_config(&self) -> Option<serde_json::Value> {
                #[allow(unused_variables)]
                let args = serde_json::Value::Null;
                $(let args = $args;)?
                Some($crate::metrics::keras_config::object(stringify!($name), $log, args))
            }
        }

        impl<const K: usize> $crate::metrics::Metric<K> for $name {
            type Target = $crate::target::Dense<K>;
        }
    };
}

pub(crate) use mean_metric;
