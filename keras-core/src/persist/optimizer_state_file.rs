//! Optimizer state on disk, as a safetensors file written atomically.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use safetensors::tensor::{Dtype, SafeTensors, TensorView};

use crate::optimizers::{variables_differ, variables_of, Optimizer, Variables};
use crate::persist::{add_placeholder, read_sealed, seal};
use crate::state::FlatParams;
use crate::{Error, Result};

/// Metadata key marking a keras-rs optimizer state file.
const FORMAT_KEY: &str = "format";
const FORMAT: &str = "keras-rs optimizer state";
/// Metadata key of the variables (field paths and shapes) a saved state belongs to.
const VARIABLES_KEY: &str = "variables";

fn checkpoint(path: &Path, reason: impl std::fmt::Display) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.tmp"))
}

/// Writes named `f32` vectors (an [`Optimizer::state`]) to a safetensors file, atomically:
/// the bytes go to a temporary file in the same directory, are flushed to disk, and the file
/// is renamed over `path`, so a crash leaves either the old or the new file.
///
/// # Examples
/// ```
/// use keras_core::persist::{read_state, write_state};
/// let path = std::env::temp_dir().join("keras_rs_doc_write_state.safetensors");
/// let state = vec![("velocity".to_string(), vec![1.0, 2.0])];
/// write_state(&path, &state).unwrap();
/// assert_eq!(read_state(&path).unwrap(), state);
/// # std::fs::remove_file(&path).ok();
/// ```
pub fn write_state(path: impl AsRef<Path>, state: &[(String, Vec<f32>)]) -> Result<()> {
    write_state_with(path.as_ref(), state, None)
}

/// [`write_state`], with the variables the state belongs to in the `variables` metadata.
fn write_state_with(
    path: &Path,
    state: &[(String, Vec<f32>)],
    variables: Option<&[(String, Vec<usize>)]>,
) -> Result<()> {
    let bytes: Vec<(&str, Vec<u8>, usize)> = state
        .iter()
        .map(|(name, v)| {
            let data = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            (name.as_str(), data, v.len())
        })
        .collect();
    let mut views = Vec::with_capacity(bytes.len());
    for (name, data, len) in &bytes {
        let view = TensorView::new(Dtype::F32, vec![*len], data)
            .map_err(|e| checkpoint(path, format!("{e:?}")))?;
        views.push((*name, view));
    }
    let mut metadata = HashMap::from([(FORMAT_KEY.to_string(), FORMAT.to_string())]);
    if let Some(variables) = variables {
        let json = serde_json::to_string(variables).map_err(|e| checkpoint(path, e))?;
        metadata.insert(VARIABLES_KEY.to_string(), json);
    }
    add_placeholder(&mut metadata);
    let mut buffer = safetensors::tensor::serialize(views, &Some(metadata))
        .map_err(|e| checkpoint(path, format!("{e:?}")))?;
    seal(&mut buffer).map_err(|reason| checkpoint(path, reason))?;

    crate::persist::write_atomically_as(path, &temp_path(path), &buffer)
}

/// Reads a file written by [`write_state`]; entries come back sorted by name. A file whose
/// checksum seal does not check (changed, damaged or cut short) is an [`Error::Checkpoint`].
pub fn read_state(path: impl AsRef<Path>) -> Result<Vec<(String, Vec<f32>)>> {
    let path = path.as_ref();
    parse_state(path, &read_sealed(path)?)
}

/// The entries of a state file's (sealed, read) bytes, sorted by name.
fn parse_state(path: &Path, buffer: &[u8]) -> Result<Vec<(String, Vec<f32>)>> {
    let tensors =
        SafeTensors::deserialize(buffer).map_err(|e| checkpoint(path, format!("{e:?}")))?;
    let mut out = Vec::with_capacity(tensors.len());
    for (name, view) in tensors.tensors() {
        if view.dtype() != Dtype::F32 || view.shape().len() != 1 {
            return Err(checkpoint(
                path,
                format!("entry `{name}` is not a flat f32 vector"),
            ));
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        out.push((name, values));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The variables (field paths and shapes) recorded in a file written by [`save_optimizer`];
/// `None` for a state saved before the optimizer's first step (or by [`write_state`]).
pub fn read_state_variables(path: impl AsRef<Path>) -> Result<Option<Variables>> {
    let path = path.as_ref();
    parse_variables(path, &read_sealed(path)?)
}

/// The `variables` metadata of a state file's (sealed, read) bytes.
fn parse_variables(path: &Path, buffer: &[u8]) -> Result<Option<Variables>> {
    let (_, metadata) =
        SafeTensors::read_metadata(buffer).map_err(|e| checkpoint(path, format!("{e:?}")))?;
    metadata
        .metadata()
        .as_ref()
        .and_then(|m| m.get(VARIABLES_KEY))
        .map(|json| {
            serde_json::from_str(json)
                .map_err(|e| checkpoint(path, format!("bad `{VARIABLES_KEY}` metadata: {e}")))
        })
        .transpose()
}

/// Saves `optimizer`'s state to `path` (see [`write_state`]), with the variables (field paths
/// and shapes) it belongs to once the optimizer has taken a step.
pub fn save_optimizer(optimizer: &impl Optimizer, path: impl AsRef<Path>) -> Result<()> {
    write_state_with(
        path.as_ref(),
        &optimizer.state(),
        optimizer.variables().as_deref(),
    )
}

/// Restores `optimizer`'s state from a file written by [`save_optimizer`]. A state that does
/// not fit the optimizer, or that was saved for other variables than those the optimizer
/// already steps, is an [`Error::Checkpoint`] naming the first variable path that differs, and
/// changes nothing. An optimizer that has not stepped yet checks the saved variables against the
/// model's at its first step (an [`Error::ShapeMismatch`] naming the path); use
/// [`load_optimizer_for`] to check them now.
pub fn load_optimizer(optimizer: &mut impl Optimizer, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let known = optimizer.variables();
    load_checked(optimizer, path, known.as_deref())
}

/// [`load_optimizer`] for an optimizer that will step `layout`'s variables (a model's
/// [`layout`](crate::model::layout), or [`Trainer::weights`](crate::Trainer::weights)): a file
/// saved for other variables is an [`Error::Checkpoint`] naming the first variable path that
/// differs, before anything changes.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{Adam, FlatParams, Optimizer};
/// use keras_core::persist::{load_optimizer_for, save_optimizer};
///
/// let mut params = FlatParams::from_layout([("dense.kernel", &[2usize, 2][..])]);
/// let mut adam = Adam::new().build()?;
/// adam.apply(&mut params)?;
/// let path = std::env::temp_dir().join(format!("doc-adam-{}.safetensors", std::process::id()));
/// save_optimizer(&adam, &path)?;
///
/// let other = FlatParams::from_layout([("hidden.kernel", &[2usize, 2][..])]);
/// let err = load_optimizer_for(&mut Adam::new().build()?, &other, &path).unwrap_err();
/// assert!(err.to_string().contains("`dense.kernel`"));
/// load_optimizer_for(&mut Adam::new().build()?, &params, &path)?;
/// # std::fs::remove_file(&path).ok();
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn load_optimizer_for(
    optimizer: &mut impl Optimizer,
    layout: &FlatParams,
    path: impl AsRef<Path>,
) -> Result<()> {
    let model = variables_of(layout);
    load_checked(optimizer, path.as_ref(), Some(&model))
}

/// Reads the file once, compares its variables with `model`'s (when both are known), then loads.
fn load_checked(
    optimizer: &mut impl Optimizer,
    path: &Path,
    model: Option<&[(String, Vec<usize>)]>,
) -> Result<()> {
    let buffer = read_sealed(path)?;
    let state = parse_state(path, &buffer)?;
    let saved = parse_variables(path, &buffer)?;
    if let (Some(saved), Some(model)) = (saved.as_deref(), model) {
        if let Some(reason) = variables_differ(saved, model) {
            return Err(checkpoint(path, reason));
        }
    }
    optimizer
        .load_state(&state)
        .map_err(|e| checkpoint(path, e))?;
    if let Some(saved) = saved {
        optimizer
            .expect_variables(saved)
            .map_err(|e| checkpoint(path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::schedules::{ExponentialDecay, LearningRateSchedule};
    use crate::optimizers::{
        Adafactor, Adam, FlatParams, Ftrl, KerasOptimizer, Nadam, Sgd, UpdateRule,
    };

    fn layout() -> FlatParams {
        let mut p =
            FlatParams::from_layout([("dense.kernel", &[3, 4][..]), ("dense.bias", &[4][..])]);
        for (i, v) in p.values.iter_mut().enumerate() {
            *v = (i as f32 * 0.37).sin();
        }
        p
    }

    fn step<O: Optimizer>(opt: &mut O, p: &mut FlatParams, t: usize) {
        for (i, g) in p.grads.iter_mut().enumerate() {
            *g = ((t * 31 + i * 7) as f32 * 0.11).cos() * (1.0 + t as f32);
        }
        opt.apply(p).unwrap();
    }

    fn bits(v: &[f32]) -> Vec<u32> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// N steps, save to a file, load into a fresh optimizer, M more steps: the same bits as
    /// N + M uninterrupted steps.
    fn resume_is_bit_exact<U: UpdateRule, S: LearningRateSchedule>(
        tag: &str,
        make: impl Fn() -> KerasOptimizer<U, S>,
    ) {
        let (n, m) = (5, 4);
        let mut straight = make();
        let mut p_straight = layout();
        for t in 0..n + m {
            step(&mut straight, &mut p_straight, t);
        }
        let path = std::env::temp_dir().join(format!("keras_rs_resume_{tag}.safetensors"));
        let mut first = make();
        let mut p = layout();
        for t in 0..n {
            step(&mut first, &mut p, t);
        }
        save_optimizer(&first, &path).unwrap();
        let mut resumed = make();
        load_optimizer(&mut resumed, &path).unwrap();
        std::fs::remove_file(&path).ok();
        for t in n..n + m {
            step(&mut resumed, &mut p, t);
        }
        assert_eq!(bits(&p.values), bits(&p_straight.values), "{tag}: values");
        assert_eq!(
            resumed.iterations(),
            straight.iterations(),
            "{tag}: iterations"
        );
        let (a, b) = (resumed.state(), straight.state());
        assert_eq!(a.len(), b.len(), "{tag}: state entries");
        for ((na, va), (nb, vb)) in a.iter().zip(&b) {
            assert_eq!((na, bits(va)), (nb, bits(vb)), "{tag}: state");
        }
    }

    #[test]
    fn saving_loading_and_continuing_equals_training_uninterrupted() {
        resume_is_bit_exact("adam_all_options", || {
            Adam::new()
                .with_schedule(ExponentialDecay::new(0.01, 3, 0.7).unwrap())
                .with_amsgrad(true)
                .with_weight_decay(0.01)
                .with_clipnorm(0.5)
                .with_ema(0.9)
                .with_ema_overwrite_frequency(3)
                .with_gradient_accumulation_steps(2)
                .with_loss_scale_factor(128.0)
                .build()
                .unwrap()
        });
        resume_is_bit_exact("nadam", || Nadam::new().build().unwrap());
        resume_is_bit_exact("adafactor", || Adafactor::new().build().unwrap());
        resume_is_bit_exact("ftrl", || {
            Ftrl::new()
                .with_l1_regularization_strength(0.01)
                .build()
                .unwrap()
        });
        resume_is_bit_exact("sgd_reduced_lr", || {
            let mut opt = Sgd::new()
                .with_momentum(0.9)
                .with_nesterov(true)
                .build()
                .unwrap();
            opt.set_learning_rate(0.003).unwrap();
            opt
        });
    }

    #[test]
    fn a_state_file_round_trips_bit_for_bit() {
        let path = std::env::temp_dir().join("keras_rs_state_file_round_trip.safetensors");
        let state = vec![
            ("a".to_string(), vec![f32::MIN_POSITIVE, -0.0, 1e-30]),
            ("b".to_string(), vec![]),
        ];
        write_state(&path, &state).unwrap();
        let back = read_state(&path).unwrap();
        std::fs::remove_file(&path).ok();
        assert_eq!(back.len(), 2);
        for ((n1, v1), (n2, v2)) in state.iter().zip(&back) {
            assert_eq!(n1, n2);
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(v1), bits(v2));
        }
        assert!(
            !temp_path(&path).exists(),
            "the temporary file is renamed away"
        );
    }

    #[test]
    fn a_missing_file_is_an_io_error_and_garbage_a_checkpoint_error() {
        let path = std::env::temp_dir().join("keras_rs_state_file_garbage.safetensors");
        std::fs::remove_file(&path).ok();
        assert!(matches!(read_state(&path), Err(Error::Io { .. })));
        std::fs::write(&path, b"not a safetensors file").unwrap();
        assert!(matches!(read_state(&path), Err(Error::Checkpoint { .. })));
        std::fs::remove_file(&path).ok();
    }
}
