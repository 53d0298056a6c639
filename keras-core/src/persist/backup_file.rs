//! The file a [`BackupAndRestore`](super::BackupAndRestore) writes: one generation of a backup,
//! checksummed and written atomically.
//!
//! Layout: the magic `KRSBKUP1`, the payload length (`u64`, little-endian), the payload's
//! CRC-32C (`u32`, little-endian), then the payload: a safetensors buffer holding the trainable
//! weights (`weights/<name>`), the non-trainable ones (`non_trainable/<name>`) and the optimizer
//! state (`optimizer/<entry>`), with a JSON description of the run (epoch, batch, data position,
//! running metrics, history, callback states, the layers' hyper-parameters) in its `backup`
//! metadata field. Floats in the JSON
//! are stored as their bit patterns, so everything round-trips bit for bit. A file whose length
//! or checksum does not match is rejected as corrupt.

use std::{
    borrow::Cow,
    collections::{BTreeMap, HashMap},
    path::Path,
};

use safetensors::tensor::{Dtype, SafeTensors, View};
use serde::{Deserialize, Serialize};

use super::crc32c::crc32c;
use crate::{
    state::{
        DataPosition, DataSignature, FlatParams, History, HyperParameters, MeanState, ResumePoint,
    },
    Error, Result,
};

const MAGIC: &[u8; 8] = b"KRSBKUP1";
const HEADER: usize = 8 + 8 + 4;
const META_KEY: &str = "backup";
const FORMAT: &str = "keras-rs backup";

/// One generation of a backup, in memory.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Backup {
    pub weights: FlatParams,
    pub non_trainable: FlatParams,
    pub optimizer: Vec<(String, Vec<f32>)>,
    pub point: ResumePoint,
    pub callbacks: Option<serde_json::Value>,
    /// The layers' hyper-parameters, when the context knew them.
    pub hyper_parameters: Option<HyperParameters>,
}

#[derive(Serialize, Deserialize)]
struct Meta {
    format: String,
    version: u32,
    weights: Vec<String>,
    non_trainable: Vec<String>,
    optimizer: Vec<String>,
    epoch: usize,
    batch: usize,
    data: DataPosition,
    signature: DataSignature,
    loss_tracker: [u32; 2],
    metric_states: Vec<Option<Vec<u32>>>,
    weighted_metric_states: Vec<Option<Vec<u32>>>,
    history_epochs: Vec<usize>,
    history_keys: Vec<String>,
    history: BTreeMap<String, Vec<u32>>,
    callbacks: Option<serde_json::Value>,
    /// [`HyperParameters::to_json`]; absent in backups written before it was recorded.
    #[serde(default)]
    hyper_parameters: Option<String>,
}

struct F32Bytes {
    shape: Vec<usize>,
    bytes: Vec<u8>,
}

impl View for F32Bytes {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Borrowed(&self.bytes)
    }
    fn data_len(&self) -> usize {
        self.bytes.len()
    }
}

fn bits(values: &[f32]) -> Vec<u32> {
    values.iter().map(|v| v.to_bits()).collect()
}

fn floats(bits: &[u32]) -> Vec<f32> {
    bits.iter().map(|b| f32::from_bits(*b)).collect()
}

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::Checkpoint {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn tensor(shape: Vec<usize>, values: &[f32]) -> F32Bytes {
    F32Bytes {
        shape,
        bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

fn push_params(prefix: &str, params: &FlatParams, out: &mut Vec<(String, F32Bytes)>) {
    for var in &params.vars {
        let values = &params.values[var.range()];
        out.push((
            format!("{prefix}{}", var.name),
            tensor(var.shape.clone(), values),
        ));
    }
}

/// Serialises `backup` into the file layout described in the module docs.
pub(crate) fn encode(path: &Path, backup: &Backup) -> Result<Vec<u8>> {
    let mut tensors = Vec::new();
    push_params("weights/", &backup.weights, &mut tensors);
    push_params("non_trainable/", &backup.non_trainable, &mut tensors);
    for (name, values) in &backup.optimizer {
        tensors.push((
            format!("optimizer/{name}"),
            tensor(vec![values.len()], values),
        ));
    }
    let p = &backup.point;
    let meta = Meta {
        format: FORMAT.into(),
        version: 1,
        weights: backup.weights.vars.iter().map(|v| v.name.clone()).collect(),
        non_trainable: backup
            .non_trainable
            .vars
            .iter()
            .map(|v| v.name.clone())
            .collect(),
        optimizer: backup.optimizer.iter().map(|(n, _)| n.clone()).collect(),
        epoch: p.epoch,
        batch: p.batch,
        data: p.data,
        signature: p.signature.clone(),
        loss_tracker: [
            p.loss_tracker.total.to_bits(),
            p.loss_tracker.count.to_bits(),
        ],
        metric_states: p
            .metric_states
            .iter()
            .map(|s| s.as_deref().map(bits))
            .collect(),
        weighted_metric_states: p
            .weighted_metric_states
            .iter()
            .map(|s| s.as_deref().map(bits))
            .collect(),
        history_epochs: p.history.epochs.clone(),
        history_keys: p.history.keys.clone(),
        history: p
            .history
            .history
            .iter()
            .map(|(k, v)| (k.clone(), bits(v)))
            .collect(),
        callbacks: backup.callbacks.clone(),
        hyper_parameters: backup
            .hyper_parameters
            .as_ref()
            .map(HyperParameters::to_json),
    };
    let json = serde_json::to_string(&meta).map_err(|e| corrupt(path, e.to_string()))?;
    let metadata = HashMap::from([(META_KEY.to_string(), json)]);
    let payload = safetensors::tensor::serialize(tensors, &Some(metadata))
        .map_err(|e| corrupt(path, format!("cannot serialize the backup: {e:?}")))?;
    let mut out = Vec::with_capacity(HEADER + payload.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&crc32c(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(out)
}

/// Checks the length and checksum of `bytes` and decodes them; anything wrong is an
/// [`Error::Checkpoint`] that says what.
pub(crate) fn decode(path: &Path, bytes: &[u8]) -> Result<Backup> {
    if bytes.len() < HEADER || &bytes[..8] != MAGIC {
        return Err(corrupt(
            path,
            "not a keras-rs backup (bad magic or truncated header)",
        ));
    }
    let mut len = [0u8; 8];
    len.copy_from_slice(&bytes[8..16]);
    let len = u64::from_le_bytes(len);
    let mut crc = [0u8; 4];
    crc.copy_from_slice(&bytes[16..20]);
    let crc = u32::from_le_bytes(crc);
    let payload = &bytes[HEADER..];
    if payload.len() as u64 != len {
        return Err(corrupt(
            path,
            format!(
                "truncated or damaged backup: the header announces {len} payload bytes, the file holds {}",
                payload.len()
            ),
        ));
    }
    let actual = crc32c(payload);
    if actual != crc {
        return Err(corrupt(
            path,
            format!(
                "corrupted backup: CRC-32C {actual:#010x} does not match the stored {crc:#010x}"
            ),
        ));
    }
    let file = SafeTensors::deserialize(payload)
        .map_err(|e| corrupt(path, format!("bad payload: {e:?}")))?;
    let (_, header) = SafeTensors::read_metadata(payload)
        .map_err(|e| corrupt(path, format!("bad payload header: {e:?}")))?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get(META_KEY))
        .ok_or_else(|| corrupt(path, "the backup description is missing"))?;
    let meta: Meta = serde_json::from_str(json)
        .map_err(|e| corrupt(path, format!("bad backup description: {e}")))?;
    if meta.format != FORMAT || meta.version != 1 {
        return Err(corrupt(
            path,
            format!(
                "unsupported backup format {} v{}",
                meta.format, meta.version
            ),
        ));
    }
    let read = |name: &str| -> Result<(Vec<usize>, Vec<f32>)> {
        let t = file
            .tensor(name)
            .map_err(|_| corrupt(path, format!("tensor `{name}` is missing")))?;
        if t.dtype() != Dtype::F32 {
            return Err(corrupt(path, format!("tensor `{name}` is not F32")));
        }
        let values = t
            .data()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        Ok((t.shape().to_vec(), values))
    };
    let params = |prefix: &str, names: &[String]| -> Result<FlatParams> {
        let mut out = FlatParams::default();
        for name in names {
            let (shape, values) = read(&format!("{prefix}{name}"))?;
            let range = out.push_var(name, &shape).range();
            out.values[range].copy_from_slice(&values);
        }
        Ok(out)
    };
    let weights = params("weights/", &meta.weights)?;
    let non_trainable = params("non_trainable/", &meta.non_trainable)?;
    let mut optimizer = Vec::with_capacity(meta.optimizer.len());
    for name in &meta.optimizer {
        optimizer.push((name.clone(), read(&format!("optimizer/{name}"))?.1));
    }
    let point = ResumePoint {
        epoch: meta.epoch,
        batch: meta.batch,
        data: meta.data,
        signature: meta.signature,
        loss_tracker: MeanState {
            total: f32::from_bits(meta.loss_tracker[0]),
            count: f32::from_bits(meta.loss_tracker[1]),
        },
        metric_states: meta
            .metric_states
            .iter()
            .map(|s| s.as_deref().map(floats))
            .collect(),
        weighted_metric_states: meta
            .weighted_metric_states
            .iter()
            .map(|s| s.as_deref().map(floats))
            .collect(),
        history: History {
            epochs: meta.history_epochs,
            keys: meta.history_keys,
            history: meta
                .history
                .iter()
                .map(|(k, v)| (k.clone(), floats(v)))
                .collect(),
        },
        // Kept beside the point in `Backup::callbacks`.
        callbacks: None,
    };
    let hyper_parameters = match &meta.hyper_parameters {
        Some(json) => Some(HyperParameters::from_json(json).map_err(|r| corrupt(path, r))?),
        None => None,
    };
    Ok(Backup {
        weights,
        non_trainable,
        optimizer,
        point,
        callbacks: meta.callbacks,
        hyper_parameters,
    })
}

pub(crate) use crate::persist::write_atomically_via as write_atomically;

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Backup {
        let mut weights =
            FlatParams::from_layout([("d.kernel", &[2usize, 2][..]), ("d.bias", &[2][..])]);
        weights.values = vec![1.5, -0.0, f32::MIN_POSITIVE, 3.0, -7.25, 1e-30];
        let mut non_trainable = FlatParams::from_layout([("bn.running_mean", &[2usize][..])]);
        non_trainable.values = vec![0.5, 0.25];
        let mut history = History {
            epochs: vec![0],
            keys: vec!["loss".into()],
            ..History::default()
        };
        history.history.insert("loss".into(), vec![f32::NAN]);
        Backup {
            weights,
            non_trainable,
            optimizer: vec![("iterations".into(), vec![3.0, 0.0, 0.0, 0.0])],
            point: ResumePoint {
                epoch: 1,
                batch: 3,
                loss_tracker: MeanState {
                    total: 0.1,
                    count: 24.0,
                },
                metric_states: vec![Some(vec![2.0, 3.0]), None],
                history,
                ..ResumePoint::default()
            },
            callbacks: Some(serde_json::json!([null, {"wait": 2}])),
            hyper_parameters: Some(HyperParameters::from_pairs([("drop.rate", 0.25)])),
        }
    }

    fn same_bits(a: &Backup, b: &Backup) -> bool {
        let h = |x: &Backup| x.point.history.history["loss"][0].to_bits();
        a.weights.values.iter().map(|v| v.to_bits()).eq(b
            .weights
            .values
            .iter()
            .map(|v| v.to_bits()))
            && a.weights.vars == b.weights.vars
            && a.non_trainable == b.non_trainable
            && a.optimizer == b.optimizer
            && a.callbacks == b.callbacks
            && a.hyper_parameters == b.hyper_parameters
            && a.point.loss_tracker == b.point.loss_tracker
            && a.point.metric_states == b.point.metric_states
            && h(a) == h(b)
    }

    #[test]
    fn a_backup_round_trips_bit_for_bit() {
        let path = Path::new("b");
        let b = sample();
        let back = decode(path, &encode(path, &b).unwrap()).unwrap();
        assert!(same_bits(&b, &back));
    }

    #[test]
    fn a_truncated_backup_is_rejected() {
        let path = Path::new("b");
        let bytes = encode(path, &sample()).unwrap();
        for cut in [0, 7, HEADER, bytes.len() - 1] {
            let err = decode(path, &bytes[..cut]).unwrap_err();
            assert!(matches!(err, Error::Checkpoint { .. }), "{err}");
        }
        let err = decode(path, &bytes[..bytes.len() - 1]).unwrap_err();
        assert!(err.to_string().contains("truncated"), "{err}");
    }

    #[test]
    fn a_flipped_bit_anywhere_in_the_payload_is_detected() {
        let path = Path::new("b");
        let bytes = encode(path, &sample()).unwrap();
        for i in (HEADER..bytes.len()).step_by(7) {
            let mut bad = bytes.clone();
            bad[i] ^= 0x10;
            let err = decode(path, &bad).unwrap_err();
            assert!(err.to_string().contains("CRC-32C"), "byte {i}: {err}");
        }
    }
}
