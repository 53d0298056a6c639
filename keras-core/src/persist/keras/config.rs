//! `config.json` and `metadata.json` of a `.keras` file: the model as a Keras `Sequential` of
//! the layers' descriptions, with the compile config (optimizer, loss, metrics) so that
//! `keras.saving.load_model` rebuilds, compiles and continues training it with no Python code.

use serde_json::{json, Map, Value};

use crate::layers::keras_names::layer_groups;
use crate::layers::KerasLayerSpec;
use crate::optimizers::KerasOptimizerSpec;

/// The Keras version whose format the files follow.
pub const KERAS_VERSION: &str = "3.15.1";

fn dtype_policy() -> Value {
    json!({
        "module": "keras",
        "class_name": "DTypePolicy",
        "config": {"name": "float32"},
        "registered_name": null,
    })
}

/// `config.json` of a Sequential model made of `layers` (a `Sequential` with an `InputLayer`
/// of the first layer's input shape), with `compile` as its `compile_config` when given.
pub(crate) fn sequential_config(
    layers: &[KerasLayerSpec],
    name: &str,
    compile: Option<Value>,
) -> std::result::Result<Value, String> {
    let input = layers
        .first()
        .ok_or("the model has no layers")?
        .input_shape
        .clone()
        .ok_or_else(|| {
            format!(
                "the input shape of the model's first layer, `{}` ({}), does not follow from its type",
                layers[0].path, layers[0].class_name
            )
        })?;
    let batch_shape: Vec<Value> = std::iter::once(Value::Null)
        .chain(input.iter().map(|&d| json!(d)))
        .collect();
    let mut out = vec![json!({
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {
            "batch_shape": batch_shape,
            "dtype": "float32",
            "sparse": false,
            "ragged": false,
            "name": "input_layer",
            "optional": false,
        },
        "registered_name": null,
    })];
    for (layer, group) in layers.iter().zip(layer_groups(layers)) {
        let mut config = Map::new();
        config.insert("name".into(), json!(group.trim_start_matches("layers/")));
        config.insert("trainable".into(), json!(true));
        config.insert("dtype".into(), dtype_policy());
        config.extend(layer.config.clone());
        out.push(json!({
            "module": "keras.layers",
            "class_name": layer.class_name,
            "config": config,
            "registered_name": null,
        }));
    }
    let mut model = json!({
        "module": "keras",
        "class_name": "Sequential",
        "config": {
            "name": name,
            "trainable": true,
            "dtype": dtype_policy(),
            "layers": out,
            "build_input_shape": batch_shape,
        },
        "registered_name": null,
        "build_config": {"input_shape": batch_shape},
    });
    if let Some(compile) = compile {
        model["compile_config"] = compile;
    }
    Ok(model)
}

/// Keras's `compile_config` for an optimizer, a loss, and the metrics and weighted metrics as
/// [`KerasMetrics`](crate::metrics::KerasMetrics) lists them (`null` for none, as Keras writes
/// `compile(metrics=None)`).
pub(crate) fn compile_config(
    optimizer: &KerasOptimizerSpec,
    loss: Value,
    metrics: Vec<Value>,
    weighted_metrics: Vec<Value>,
) -> Value {
    let list = |m: Vec<Value>| {
        if m.is_empty() {
            Value::Null
        } else {
            Value::Array(m)
        }
    };
    json!({
        "optimizer": {
            "module": "keras.optimizers",
            "class_name": optimizer.class_name,
            "config": optimizer.config,
            "registered_name": null,
        },
        "loss": loss,
        "loss_weights": null,
        "metrics": list(metrics),
        "weighted_metrics": list(weighted_metrics),
        "run_eagerly": false,
        "steps_per_execution": 1,
        "jit_compile": true,
    })
}

/// `metadata.json`.
pub(crate) fn metadata() -> Value {
    json!({"keras_version": KERAS_VERSION, "date_saved": "keras-rs"})
}
