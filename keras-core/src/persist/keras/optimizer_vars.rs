//! An optimizer's state as Keras stores it under `optimizer/vars`: `0` the iteration count (an
//! integer), `1` the learning rate when it is a constant, then the slots group by group, each
//! group interleaved variable by variable ([`KerasOptimizerSpec::slot_groups`]); and back.

use super::weights_h5::{H5Array, H5Data, WeightsH5};
use crate::optimizers::{decode_iterations, encode_iterations, KerasOptimizerSpec};
use crate::state::FlatParams;

/// An optimizer's state in this crate's named form ([`Optimizer::state`](crate::optimizers::Optimizer::state)).
type NamedState = Vec<(String, Vec<f32>)>;

/// The group the optimizer's variables live under.
pub(crate) const GROUP: &str = "optimizer";

/// The slot buffers of `state` by name, each as long as the parameters.
fn slot_buffers<'s>(
    spec: &KerasOptimizerSpec,
    state: &'s [(String, Vec<f32>)],
    params: &FlatParams,
) -> Option<Vec<(&'static str, &'s [f32])>> {
    let mut out = Vec::new();
    for name in spec.slot_groups.iter().flat_map(|g| g.iter()) {
        let (_, buf) = state.iter().find(|(n, _)| n == name)?;
        if buf.len() != params.values.len() {
            return None;
        }
        out.push((*name, buf.as_slice()));
    }
    Some(out)
}

/// Adds the optimizer's variables to `file`. An optimizer that has not taken a step yet has no
/// slots, and writes only the iteration count and learning rate (as Keras before its optimizer
/// is built).
pub(crate) fn put_optimizer(
    file: &mut WeightsH5,
    spec: &KerasOptimizerSpec,
    state: &[(String, Vec<f32>)],
    params: &FlatParams,
) -> std::result::Result<(), String> {
    if let Some(why) = &spec.state_unsupported {
        return Err(format!(
            "the state of {} with {why} has no Keras layout here; save the weights only",
            spec.class_name
        ));
    }
    let iterations = state
        .iter()
        .find(|(n, _)| n == "iterations")
        .map(|(_, v)| decode_iterations(v))
        .transpose()
        .map_err(|e| e.to_string())?
        .unwrap_or(0);
    let mut arrays = vec![H5Array {
        shape: vec![],
        data: H5Data::Int(vec![i64::try_from(iterations).unwrap_or(i64::MAX)]),
    }];
    if spec.learning_rate_variable {
        let lr = state
            .iter()
            .find(|(n, _)| n == "learning_rate")
            .and_then(|(_, v)| v.first().copied())
            .ok_or("the optimizer's state has no learning rate")?;
        arrays.push(H5Array {
            shape: vec![],
            data: H5Data::F32(vec![lr]),
        });
    }
    let built = !spec.slot_groups.iter().all(|g| g.is_empty())
        && state
            .iter()
            .any(|(n, _)| spec.slot_groups[0].contains(&n.as_str()));
    if built {
        let buffers = slot_buffers(spec, state, params)
            .ok_or("the optimizer's slots do not match the model's variables")?;
        for group in &spec.slot_groups {
            for var in &params.vars {
                for name in group.iter() {
                    let (_, buf) = buffers.iter().find(|(n, _)| n == name).ok_or("slot")?;
                    arrays.push(H5Array {
                        shape: var.shape.clone(),
                        data: H5Data::F32(buf[var.range()].to_vec()),
                    });
                }
            }
        }
    }
    let name = spec
        .config
        .get("name")
        .and_then(|n| n.as_str())
        .unwrap_or(spec.class_name)
        .to_string();
    file.put_vars(GROUP, &name, arrays);
    Ok(())
}

/// The optimizer state `file` holds, in this crate's named form, or `None` when the file has no
/// optimizer variables. A file whose optimizer variables do not fit `spec` over `params` (another
/// optimizer, another model) is an error naming the difference.
pub(crate) fn take_optimizer(
    file: &WeightsH5,
    spec: &KerasOptimizerSpec,
    params: &FlatParams,
) -> std::result::Result<Option<NamedState>, String> {
    let count = file.var_count(GROUP);
    if count == 0 {
        return Ok(None);
    }
    if let Some(why) = &spec.state_unsupported {
        return Err(format!(
            "the file holds an optimizer state, but {} with {why} cannot take a Keras state here",
            spec.class_name
        ));
    }
    let vars = file.vars(GROUP);
    if vars.len() != count {
        return Err(format!("`{GROUP}/vars` is not numbered 0..{count}"));
    }
    let saved_name = file
        .groups
        .get(&format!("{GROUP}/vars"))
        .cloned()
        .flatten()
        .unwrap_or_else(|| "?".to_string());
    let head = 1 + usize::from(spec.learning_rate_variable);
    let slots: usize = spec.slot_groups.iter().map(|g| g.len()).sum();
    let full = head + slots * params.vars.len();
    if count != head && count != full {
        return Err(format!(
            "the file's optimizer (`{saved_name}`) has {count} variables, but {} over this model's {} variables has {full} ({head} before any step)",
            spec.class_name,
            params.vars.len()
        ));
    }
    let scalar = |i: usize| -> std::result::Result<&H5Array, String> {
        let (key, a) = vars[i];
        if a.data.len() != 1 {
            return Err(format!(
                "`{key}` should hold one value, it has shape {:?}",
                a.shape
            ));
        }
        Ok(a)
    };
    let iterations = match &scalar(0)?.data {
        H5Data::Int(v) if v[0] >= 0 => v[0] as u64,
        other => {
            return Err(format!(
                "`{GROUP}/vars/0` (the iteration count) should be a non-negative integer, got {other:?}"
            ))
        }
    };
    let mut state = vec![("iterations".to_string(), encode_iterations(iterations))];
    if spec.learning_rate_variable {
        state.push(("learning_rate".to_string(), scalar(1)?.data.to_f32()));
    }
    if count == full {
        let mut buffers: Vec<(&'static str, Vec<f32>)> = spec
            .slot_groups
            .iter()
            .flat_map(|g| g.iter().map(|&n| (n, vec![0.0; params.values.len()])))
            .collect();
        let mut k = head;
        for group in &spec.slot_groups {
            for var in &params.vars {
                for name in group.iter() {
                    let (key, a) = vars[k];
                    k += 1;
                    if a.shape != var.shape {
                        return Err(format!(
                            "`{key}` ({name} of `{}`) has shape {:?} in the file but the variable has {:?}",
                            var.name, a.shape, var.shape
                        ));
                    }
                    let buf = buffers
                        .iter_mut()
                        .find(|(n, _)| n == name)
                        .map(|(_, b)| b)
                        .ok_or("slot")?;
                    buf[var.range()].copy_from_slice(&a.data.to_f32());
                }
            }
        }
        state.extend(buffers.into_iter().map(|(n, b)| (n.to_string(), b)));
    }
    Ok(Some(state))
}
