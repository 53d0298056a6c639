//! Metrics as Keras's `compile_config` lists them in a `.keras` file: the string `"accuracy"`
//! (resolved from the loss when Keras compiles), or a metric object,
//! `{"module": "keras.metrics", "class_name": ..., "config": {"name", "dtype", ...}}`, from
//! which `keras.saving.load_model` rebuilds the metric with its arguments.

use serde_json::{json, Map, Value};

use super::MetricFn;

/// A Keras metric object of class `class_name`, logged as `name`, with `args` (a JSON object)
/// after the `name` and `dtype` every metric has.
pub(crate) fn object(class_name: &str, name: &str, args: Value) -> Value {
    object_with_dtype(class_name, name, "float32", args)
}

/// [`object`] with another `dtype` (the IoU metrics count in `"int32"`).
pub(crate) fn object_with_dtype(class_name: &str, name: &str, dtype: &str, args: Value) -> Value {
    let mut config = Map::new();
    config.insert("name".into(), name.into());
    config.insert("dtype".into(), dtype.into());
    if let Value::Object(args) = args {
        config.extend(args);
    }
    json!({
        "module": "keras.metrics",
        "class_name": class_name,
        "config": config,
        "registered_name": null,
    })
}

/// An `f32` argument as Keras writes the Python float it was given (`0.3`, not
/// `0.30000001192092896`).
pub(crate) fn float(x: f32) -> Value {
    x.to_string()
        .parse::<f64>()
        .ok()
        .and_then(serde_json::Number::from_f64)
        .map_or(Value::Null, Value::Number)
}

/// A list of `f32` arguments, as [`float`] writes each.
pub(crate) fn floats(xs: &[f32]) -> Value {
    Value::Array(xs.iter().map(|&x| float(x)).collect())
}

/// The metrics of a compiled model as Keras's `compile_config` lists them (its `metrics` or
/// `weighted_metrics`): each member's [`MetricFn::keras_config`], in order; members Keras
/// cannot rebuild are left out. Implemented for `()` and tuples of up to 12 metrics, as
/// [`MetricSet`](super::MetricSet) is.
///
/// # Examples
/// ```
/// use keras_core::metrics::{BinaryAccuracy, Direction, KerasMetrics, MeanMetricWrapper};
/// use keras_core::target::Dense;
/// let metrics = (
///     BinaryAccuracy::default().with_threshold(0.3)?,
///     MeanMetricWrapper::<Dense<1>, _>::new("gap", Direction::Down, |t, p| p[0] - t[0]),
/// );
/// let listed = metrics.keras_configs();
/// assert_eq!(listed.len(), 1, "the custom metric has no Keras form");
/// assert_eq!(listed[0]["class_name"], "BinaryAccuracy");
/// assert_eq!(listed[0]["config"]["threshold"], 0.3);
/// # Ok::<(), keras_core::Error>(())
/// ```
pub trait KerasMetrics {
    /// Each member's Keras form, in order, members without one left out.
    fn keras_configs(&self) -> Vec<Value>;
}

impl KerasMetrics for () {
    fn keras_configs(&self) -> Vec<Value> {
        Vec::new()
    }
}

macro_rules! tuple_keras_metrics {
    ($($name:ident $idx:tt),+) => {
        impl<$($name: MetricFn),+> KerasMetrics for ($($name,)+) {
            fn keras_configs(&self) -> Vec<Value> {
                [$(self.$idx.keras_config()),+].into_iter().flatten().collect()
            }
        }
    };
}

tuple_keras_metrics!(A 0);
tuple_keras_metrics!(A 0, B 1);
tuple_keras_metrics!(A 0, B 1, C 2);
tuple_keras_metrics!(A 0, B 1, C 2, D 3);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4, F 5);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4, F 5, G 6);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, L 10);
tuple_keras_metrics!(A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, L 10, M 11);
