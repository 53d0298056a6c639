//! A `.keras` file's layer configurations against the model's: a file saved with other
//! hyper-parameters (Dropout's rate, BatchNormalization's momentum or epsilon, LeakyReLU's
//! slope, a Dense layer's activation) describes another model, though its weights fit.
//!
//! Layers are paired as their weights are, by class and position (`layers/dense_1`, see
//! [`names`](super::names)); for each pair, every configuration key this crate writes for the
//! layer and the file also has must hold the same value (numbers as `f32`, so that Keras's
//! `0.1` and this crate's `0.1f32` agree). Keys only one side has, and nested objects
//! (initialisers, regularisers), are not compared; a layer the file lacks is left to the
//! weights' own checks.

use serde_json::Value;

use crate::layers::keras_names::{class_groups, layer_groups};
use crate::layers::KerasLayerSpec;

/// `Err` naming the first layer whose configuration in `config` (a `.keras` file's
/// `config.json`) differs from the model's `layers`, with the key and both values.
pub(crate) fn check_layer_configs(
    config: &Value,
    layers: &[KerasLayerSpec],
) -> std::result::Result<(), String> {
    let Some(file_layers) = config["config"]["layers"].as_array() else {
        return Ok(());
    };
    let file_layers: Vec<(&str, &Value)> = file_layers
        .iter()
        .filter_map(|l| Some((l["class_name"].as_str()?, &l["config"])))
        .filter(|(class, _)| *class != "InputLayer")
        .collect();
    let file_groups = class_groups(file_layers.iter().map(|(class, _)| *class));
    for (layer, group) in layers.iter().zip(layer_groups(layers)) {
        let Some(i) = file_groups.iter().position(|g| *g == group) else {
            continue;
        };
        let theirs = file_layers[i].1;
        for (key, ours) in &layer.config {
            let Some(saved) = theirs.get(key) else {
                continue;
            };
            if !same(ours, saved) {
                return Err(format!(
                    "layer `{}` ({}) has {key} = {ours} but the file's {group} was saved with \
                     {key} = {saved}; the file is of another model",
                    layer.path, layer.class_name
                ));
            }
        }
    }
    Ok(())
}

/// Whether two configuration values agree (see the module docs).
fn same(ours: &Value, saved: &Value) -> bool {
    match (ours, saved) {
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            (Some(a), Some(b)) => a as f32 == b as f32,
            _ => a == b,
        },
        (Value::Array(a), Value::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| same(a, b))
        }
        (Value::Object(_), _) | (_, Value::Object(_)) => true,
        (a, b) => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::OutputShape;
    use serde_json::json;

    fn layer(class: &'static str, path: &str, config: Value) -> KerasLayerSpec {
        KerasLayerSpec {
            class_name: class,
            config: config.as_object().unwrap().clone(),
            path: path.into(),
            variables: vec![],
            keras_only: vec![],
            input_shape: None,
            output: OutputShape::Same,
        }
    }

    fn file(layers: Value) -> Value {
        json!({"class_name": "Sequential", "config": {"layers": layers}})
    }

    #[test]
    fn the_same_hyper_parameters_pass_with_numbers_compared_as_f32() {
        let ours = [
            layer("Dense", "hidden", json!({"units": 8, "activation": "relu"})),
            layer("Dropout", "drop", json!({"rate": 0.1f32 as f64})),
        ];
        let saved = file(json!([
            {"class_name": "InputLayer", "config": {}},
            {"class_name": "Dense", "config": {"units": 8, "activation": "relu", "name": "dense_7",
                "kernel_initializer": {"class_name": "GlorotUniform"}}},
            {"class_name": "Dropout", "config": {"rate": 0.1, "seed": null}},
        ]));
        assert_eq!(check_layer_configs(&saved, &ours), Ok(()));
    }

    #[test]
    fn another_rate_names_the_layer_the_key_and_both_values() {
        let ours = [
            layer("Dense", "hidden", json!({"units": 8})),
            layer("Dropout", "drop", json!({"rate": 0.25})),
            layer("Dense", "out", json!({"units": 2})),
        ];
        let saved = file(json!([
            {"class_name": "Dense", "config": {"units": 8}},
            {"class_name": "Dropout", "config": {"rate": 0.5}},
            {"class_name": "Dense", "config": {"units": 2}},
        ]));
        let err = check_layer_configs(&saved, &ours).unwrap_err();
        assert!(err.contains("`drop` (Dropout) has rate = 0.25"), "{err}");
        assert!(
            err.contains("layers/dropout was saved with rate = 0.5"),
            "{err}"
        );
    }

    #[test]
    fn layers_pair_by_class_and_position_as_the_weights_do() {
        let ours = [
            layer("Dense", "a", json!({"activation": "relu"})),
            layer("Dense", "b", json!({"activation": "linear"})),
        ];
        let saved = file(json!([
            {"class_name": "Dense", "config": {"activation": "relu"}},
            {"class_name": "Dense", "config": {"activation": "softmax"}},
        ]));
        let err = check_layer_configs(&saved, &ours).unwrap_err();
        assert!(
            err.contains("`b` (Dense)") && err.contains("layers/dense_1"),
            "{err}"
        );
    }
}
