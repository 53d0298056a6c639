//! Keras's names of a model's layers, the same in its files and in `summary()`.
//!
//! Where Keras puts a layer's variables in `model.weights.h5`: `layers/<name>/vars/<i>`, where
//! `<name>` is the layer's class in snake case, numbered from the second layer of the same class
//! on (`dense`, `dense_1`, ...), as Keras 3's `saving_lib` names the members of a container
//! (never by the layer's own, auto-generated, name).

use super::KerasLayerSpec;

/// Keras's `naming.to_snake_case`: `"BatchNormalization"` → `"batch_normalization"`,
/// `"Conv2D"` → `"conv2d"`, `"ReLU"` → `"re_lu"`.
pub fn to_snake_case(name: &str) -> String {
    // re.sub(r"\W+", "", name)
    let chars: Vec<char> = name
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    // re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name): leftmost non-overlapping matches of any
    // character, a capital and a run of lower-case letters.
    let mut first = Vec::with_capacity(chars.len() + 4);
    let mut p = 0;
    while p < chars.len() {
        let matches = p + 2 < chars.len()
            && chars[p + 1].is_ascii_uppercase()
            && chars[p + 2].is_ascii_lowercase();
        if matches {
            let mut end = p + 3;
            while end < chars.len() && chars[end].is_ascii_lowercase() {
                end += 1;
            }
            first.push(chars[p]);
            first.push('_');
            first.extend_from_slice(&chars[p + 1..end]);
            p = end;
        } else {
            first.push(chars[p]);
            p += 1;
        }
    }
    // re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()
    let mut out = String::with_capacity(first.len() + 4);
    for (k, &c) in first.iter().enumerate() {
        if k > 0 && c.is_ascii_uppercase() && first[k - 1].is_ascii_lowercase() {
            out.push('_');
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// The group of each layer in `model.weights.h5` (`layers/dense_1`), in order.
pub fn layer_groups(layers: &[KerasLayerSpec]) -> Vec<String> {
    class_groups(layers.iter().map(|layer| layer.class_name))
}

/// The groups of layers of these Keras classes, in order: `layers/<snake_case class>`, with
/// `_1`, `_2`, ... for the second, third, ... layer of a class.
pub fn class_groups<'a>(classes: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    let mut used: Vec<(String, usize)> = Vec::new();
    classes
        .into_iter()
        .map(|class| {
            let base = to_snake_case(class);
            let name = match used.iter_mut().find(|(n, _)| *n == base) {
                Some((_, count)) => {
                    *count += 1;
                    format!("{base}_{count}")
                }
                None => {
                    used.push((base.clone(), 0));
                    base
                }
            };
            format!("layers/{name}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn class_names_turn_into_keras_snake_case() {
        for (class, snake) in [
            ("Dense", "dense"),
            ("BatchNormalization", "batch_normalization"),
            ("Conv2D", "conv2d"),
            ("ReLU", "re_lu"),
            ("LeakyReLU", "leaky_re_lu"),
            ("ELU", "elu"),
            ("MaxPooling2D", "max_pooling2d"),
            ("GlobalAveragePooling2D", "global_average_pooling2d"),
            ("LayerNormalization", "layer_normalization"),
            ("InputLayer", "input_layer"),
            ("Adam", "adam"),
            ("AdamW", "adam_w"),
            ("HTTPServerV2", "http_server_v2"),
            ("ABCDef", "abc_def"),
            ("aBC", "a_bc"),
        ] {
            assert_eq!(to_snake_case(class), snake, "{class}");
        }
    }
}
