//! A model's variables as Keras stores them: `layers/<name>/vars/<i>` for each layer, in
//! Keras's variable order, and back, checked whole before anything is written.

use super::weights_h5::{H5Array, H5Data, WeightsH5};
use crate::layers::keras_names::layer_groups;
use crate::layers::KerasLayerSpec;
use crate::state::FlatParams;

/// A layer and its group in the file.
struct Located<'a> {
    layer: &'a KerasLayerSpec,
    group: String,
}

fn located(layers: &[KerasLayerSpec]) -> Vec<Located<'_>> {
    layers
        .iter()
        .zip(layer_groups(layers))
        .map(|(layer, group)| Located { layer, group })
        .collect()
}

/// The values and shape of the model tensor `name` (trainable or not).
fn find<'p>(
    name: &str,
    trainable: &'p FlatParams,
    non_trainable: &'p FlatParams,
) -> Option<(&'p [f32], &'p [usize])> {
    [trainable, non_trainable].into_iter().find_map(|p| {
        p.find(name)
            .map(|v| (&p.values[v.range()], v.shape.as_slice()))
    })
}

/// Checks that the layer descriptions cover every model tensor exactly once.
fn check_coverage(
    layers: &[KerasLayerSpec],
    trainable: &FlatParams,
    non_trainable: &FlatParams,
) -> std::result::Result<(), String> {
    let described: Vec<String> = layers
        .iter()
        .flat_map(|l| (0..l.variables.len()).map(move |i| l.variable_path(i)))
        .collect();
    for v in trainable.vars.iter().chain(&non_trainable.vars) {
        if !described.contains(&v.name) {
            return Err(format!(
                "the model's tensor `{}` belongs to no Keras layer description",
                v.name
            ));
        }
    }
    for name in &described {
        if find(name, trainable, non_trainable).is_none() {
            return Err(format!(
                "a Keras layer description names `{name}`, which the model does not have"
            ));
        }
    }
    Ok(())
}

/// Adds the model's variables to `file` (`layers/<name>/vars/<i>`, plus the model's own empty
/// `vars` group named `model_name`).
pub(crate) fn put_model(
    file: &mut WeightsH5,
    layers: &[KerasLayerSpec],
    trainable: &FlatParams,
    non_trainable: &FlatParams,
    model_name: &str,
) -> std::result::Result<(), String> {
    check_coverage(layers, trainable, non_trainable)?;
    for l in located(layers) {
        let mut arrays = Vec::with_capacity(l.layer.variables.len());
        for i in 0..l.layer.variables.len() {
            let name = l.layer.variable_path(i);
            let (values, shape) = find(&name, trainable, non_trainable)
                .ok_or_else(|| format!("the model has no tensor `{name}`"))?;
            arrays.push(H5Array {
                shape: shape.to_vec(),
                data: H5Data::F32(values.to_vec()),
            });
        }
        arrays.extend(l.layer.keras_only.iter().map(|_| H5Array {
            shape: Vec::new(),
            data: H5Data::Int(vec![0]),
        }));
        let leaf = l.group.rsplit('/').next().unwrap_or(&l.group).to_string();
        file.put_vars(&l.group, &leaf, arrays);
    }
    file.groups
        .insert("vars".to_string(), Some(model_name.to_string()));
    Ok(())
}

/// The model's values from `file`: new `(trainable, non_trainable)` value vectors in the
/// layouts of `trainable` and `non_trainable`. Every layer's variable count and every shape is
/// checked, and a file holding variables of a layer the model lacks is refused.
pub(crate) fn take_model(
    file: &WeightsH5,
    layers: &[KerasLayerSpec],
    trainable: &FlatParams,
    non_trainable: &FlatParams,
) -> std::result::Result<(Vec<f32>, Vec<f32>), String> {
    check_coverage(layers, trainable, non_trainable)?;
    let mut values = (trainable.values.clone(), non_trainable.values.clone());
    let located = located(layers);
    for l in &located {
        let want = l.layer.variables.len() + l.layer.keras_only.len();
        let have = file.var_count(&l.group);
        if have != want {
            return Err(if have == 0 && want > 0 {
                format!(
                    "layer `{}` ({}, `{}`) is not in the file",
                    l.layer.path, l.layer.class_name, l.group
                )
            } else {
                format!(
                    "layer `{}` ({}, `{}`) has {want} variables in the model but {have} in the file",
                    l.layer.path, l.layer.class_name, l.group
                )
            });
        }
        let vars = file.vars(&l.group);
        if vars.len() != want {
            return Err(format!(
                "`{}/vars` is not numbered 0..{want} in the file",
                l.group
            ));
        }
        // Keras's own trailing variables (`keras_only`) are not the model's: skipped.
        let held = l.layer.variables.len();
        for (i, (key, array)) in vars.into_iter().take(held).enumerate() {
            let name = l.layer.variable_path(i);
            let (target, info) = match trainable.find(&name) {
                Some(v) => (&mut values.0, v),
                None => match non_trainable.find(&name) {
                    Some(v) => (&mut values.1, v),
                    None => return Err(format!("the model has no tensor `{name}`")),
                },
            };
            if array.shape != info.shape {
                return Err(format!(
                    "variable `{name}` (`{key}`) has shape {:?} in the file but {:?} in the model",
                    array.shape, info.shape
                ));
            }
            if matches!(array.data, H5Data::Int(_)) {
                return Err(format!(
                    "variable `{name}` (`{key}`) holds integers, not floats"
                ));
            }
            target[info.range()].copy_from_slice(&array.data.to_f32());
        }
    }
    let ours: Vec<&str> = located.iter().map(|l| l.group.as_str()).collect();
    for (group, _) in file.groups.iter() {
        let Some(layer) = group.strip_suffix("/vars") else {
            continue;
        };
        if layer.starts_with("layers/") && !ours.contains(&layer) && file.var_count(layer) > 0 {
            return Err(format!(
                "the file has layer `{layer}` with {} variables, which the model lacks",
                file.var_count(layer)
            ));
        }
    }
    Ok(values)
}
