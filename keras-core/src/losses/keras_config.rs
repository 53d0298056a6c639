//! Losses as Keras's `compile_config` serializes them (`.keras` files): the shared form of the
//! crossentropies' configs.

use serde_json::{json, Map, Value};

/// A crossentropy's Keras form: `{"module": "keras.losses", "class_name": ..., "config":
/// {name, reduction, from_logits[, label_smoothing]}}` (the default reduction only).
pub(crate) fn crossentropy(
    class_name: &str,
    name: &str,
    from_logits: bool,
    label_smoothing: Option<f32>,
) -> Value {
    let mut config = Map::new();
    config.insert("name".into(), name.into());
    config.insert("reduction".into(), "sum_over_batch_size".into());
    config.insert("from_logits".into(), from_logits.into());
    if let Some(s) = label_smoothing {
        config.insert("label_smoothing".into(), f64::from(s).into());
    }
    json!({
        "module": "keras.losses",
        "class_name": class_name,
        "config": config,
        "registered_name": null,
    })
}
