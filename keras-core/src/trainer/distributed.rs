//! The trainer's side of a distributed `fit` (see [`distribution`](crate::distribution)):
//! checking that the processes agree, starting them from one set of weights, each shard's part
//! of the global loss, and logs combined across processes.

use super::{FitConfig, Trainer};
use crate::{
    data::{Batch, SampleShape, Source},
    device::KerasDevice,
    distribution::{check_agree, Distribution},
    losses::{DeviceLoss, Loss, Reduction},
    metrics::{MeanState, MergeAcross, MetricSet},
    optimizers::Optimizer,
    target::Target,
    Error, Result,
};

impl<M, O, L, Mt, Wm, D: KerasDevice> Trainer<M, O, L, Mt, Wm, D> {
    /// [`write_logs`](Self::write_logs) from the loss tracker and metric states combined over
    /// `dist`'s processes (each holds its shards' part), so that every process writes the same
    /// logs. A collective: every process calls it at the same point.
    pub(crate) fn write_logs_across<const K: usize, T: Target, Dist>(
        &self,
        dist: &Dist,
        logs: &mut crate::state::Logs,
    ) -> Result<()>
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
        Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    {
        if dist.num_processes() == 1 {
            self.write_logs::<K, T>(logs, "");
            return Ok(());
        }
        let (tracker, metrics, weighted) = self.merged_states::<K, T, _>(dist)?;
        let mut set = |name: &str, v: f32| logs.set(name, v);
        set("loss", tracker.result());
        metrics
            .as_ref()
            .unwrap_or(&self.metrics)
            .visit_results(&mut set);
        weighted
            .as_ref()
            .unwrap_or(&self.weighted_metrics)
            .visit_results(&mut set);
        Ok(())
    }

    /// The loss tracker and the metric states (host copies) summed over `dist`'s processes:
    /// the run's running states, of which each process holds its shards' part. A collective.
    /// The metric sets are `None` where a process's own set is the whole (one process).
    #[allow(clippy::type_complexity)]
    pub(crate) fn merged_states<const K: usize, T: Target, Dist>(
        &self,
        dist: &Dist,
    ) -> Result<(MeanState, Option<Mt>, Option<Wm>)>
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
        Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    {
        let mut tracker = [
            f64::from(self.loss_tracker.total),
            f64::from(self.loss_tracker.count),
        ];
        dist.all_reduce_sum_f64(&mut tracker)?;
        let tracker = MeanState {
            total: tracker[0] as f32,
            count: tracker[1] as f32,
        };
        let metrics = <Dist as MergeAcross<Mt>>::merged::<K, T>(dist, &self.metrics)?;
        let weighted = <Dist as MergeAcross<Wm>>::merged::<K, T>(dist, &self.weighted_metrics)?;
        Ok((tracker, metrics, weighted))
    }

    /// What a shard's loss (reduced over the shard) is multiplied by to be its part of the
    /// global batch's loss: the shard's divisor over the global batch's (batch sizes, or
    /// weight sums for `mean_with_sample_weight`; 1 for `sum`). 1 for a whole batch; 0 when
    /// either divisor is 0 (the shard's loss is then 0, Keras's `divide_no_nan`).
    pub(crate) fn loss_share<const K: usize>(&self, batch: &Batch) -> f32
    where
        L: Loss<K>,
    {
        let Some(shard) = batch.shard else {
            return 1.0;
        };
        let reduction = self.loss.reduction();
        let local = DeviceLoss::divisor(reduction, batch.weights(), batch.size);
        let global = match (reduction, shard.global_weight_sum) {
            (Reduction::Sum, _) => 1.0,
            (Reduction::MeanWithSampleWeight, Some(w)) => w,
            _ => shard.global_size as f32,
        };
        if local == 0.0 || global == 0.0 {
            0.0
        } else {
            local / global
        }
    }
}

/// Fails on every process when the processes of a distributed `fit` do not train the same
/// model on the same data with the same arguments ([`Error::DistributionMismatch`]).
pub(crate) fn check_same_run<S, T, M, O, L, Mt, Wm, D, Tr, Va, Dist>(
    trainer: &Trainer<M, O, L, Mt, Wm, D>,
    train: &Tr,
    validation: Option<&Va>,
    config: &FitConfig,
    dist: &Dist,
) -> Result<()>
where
    S: SampleShape,
    T: Target,
    D: KerasDevice,
    Tr: Source<S, T>,
    Va: Source<S, T>,
    Dist: Distribution,
{
    if dist.num_processes() == 1 {
        return Ok(());
    }
    // FNV-1a over each variable's name and dims, kept to 48 bits (what `check_agree` carries).
    let mut layout = 0xcbf2_9ce4_8422_2325u64;
    for var in &trainer.params.vars {
        for b in format!("{}{:?};", var.name, var.shape).bytes() {
            layout = (layout ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
        }
    }
    let samples = |s: Option<usize>| s.map_or(0.0, |n| n as f64 + 1.0);
    check_agree(
        dist,
        &[
            "the number of weights",
            "the number of weight variables",
            "the weights' names and shapes (a hash)",
            "the training samples (+1; 0 when unknown)",
            "the validation samples (+1; 0 when none or unknown)",
            "batch_size",
            "epochs",
            "seed",
        ],
        &[
            trainer.params.values.len() as f64,
            trainer.params.vars.len() as f64,
            (layout & 0xffff_ffff_ffff) as f64,
            samples(train.samples()),
            samples(validation.and_then(|v| v.samples())),
            config.batch_size as f64,
            config.epochs as f64,
            (config.seed & 0xffff_ffff_ffff) as f64,
        ],
    )
}

/// Process 0's weights and optimizer state (slots, iteration count, learning rate) on every
/// process: Keras's `DataParallel` starts every replica from the same variables, the
/// optimizer's included, so a run whose process 0 loaded a checkpoint or trained before goes
/// on from there everywhere. A collective; the optimizer state travels as one gathered `f32`
/// message.
pub(crate) fn broadcast_from_chief<M, O, L, Mt, Wm, D, Dist>(
    trainer: &mut Trainer<M, O, L, Mt, Wm, D>,
    dist: &Dist,
) -> Result<()>
where
    D: KerasDevice,
    M: dfdx::nn::tensor_collection::TensorCollection<f32, D>,
    O: Optimizer,
    Dist: Distribution,
{
    if dist.num_processes() == 1 {
        return Ok(());
    }
    trainer.sync_host()?;
    dist.broadcast(&mut trainer.params.values)?;
    crate::model::scatter_values(&mut trainer.model, &trainer.params)?;
    let local = match dist.is_chief() {
        true => encode_state(&trainer.optimizer.state()),
        false => Vec::new(),
    };
    let all = dist.all_gather(&local)?;
    if dist.is_chief() {
        return Ok(());
    }
    let state = all
        .first()
        .and_then(|message| decode_state(message))
        .ok_or_else(|| {
            Error::Distribution("process 0's optimizer state arrived malformed".into())
        })?;
    trainer.optimizer.load_state(&state)
}

/// A length as two exact 16-bit `f32` chunks.
fn push_len(out: &mut Vec<f32>, n: usize) {
    out.push((n & 0xFFFF) as f32);
    out.push((n >> 16) as f32);
}

/// `[entries; per entry: name length, values length (two chunks each), the name's bytes, the
/// values]`, every number exact in `f32`.
fn encode_state(state: &[(String, Vec<f32>)]) -> Vec<f32> {
    let mut out = Vec::new();
    push_len(&mut out, state.len());
    for (name, values) in state {
        push_len(&mut out, name.len());
        push_len(&mut out, values.len());
        out.extend(name.bytes().map(f32::from));
        out.extend_from_slice(values);
    }
    out
}

/// [`encode_state`]'s state; `None` for any other message.
fn decode_state(message: &[f32]) -> Option<Vec<(String, Vec<f32>)>> {
    let mut at: usize = 0;
    let mut take = |n: usize| -> Option<&[f32]> {
        let part = message.get(at..at.checked_add(n)?)?;
        at += n;
        Some(part)
    };
    fn len(chunks: &[f32]) -> Option<usize> {
        let valid = chunks
            .iter()
            .all(|&v| (0.0..65536.0).contains(&v) && v.fract() == 0.0);
        valid.then(|| chunks[0] as usize | (chunks[1] as usize) << 16)
    }
    let entries = len(take(2)?)?;
    let mut state = Vec::with_capacity(entries.min(64));
    for _ in 0..entries {
        let name_len = len(take(2)?)?;
        let values_len = len(take(2)?)?;
        let name: Option<Vec<u8>> = take(name_len)?
            .iter()
            .map(|&b| (b.fract() == 0.0 && (0.0..256.0).contains(&b)).then_some(b as u8))
            .collect();
        let name = String::from_utf8(name?).ok()?;
        state.push((name, take(values_len)?.to_vec()));
    }
    (at == message.len()).then_some(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_optimizer_state_survives_its_message_bit_for_bit() {
        let state = vec![
            ("iterations".to_string(), vec![3.0, 0.0, 0.0, 0.0]),
            (
                "momentum".to_string(),
                vec![-0.0, f32::NAN, 1e-40, 70_000.5],
            ),
            ("velocity_hat".to_string(), vec![]),
        ];
        let back = decode_state(&encode_state(&state)).unwrap();
        assert_eq!(back.len(), 3);
        for ((a, x), (b, y)) in state.iter().zip(&back) {
            assert_eq!(a, b);
            let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(x), bits(y));
        }
        assert_eq!(decode_state(&[]), None);
        let mut cut = encode_state(&state);
        cut.pop();
        assert_eq!(decode_state(&cut), None);
    }
}
