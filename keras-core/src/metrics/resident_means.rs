//! The running means of the loss tracker and of the metrics with a row form, kept where the
//! model's output is: one device buffer of `[total, count]` pairs that each training batch adds
//! to ([`KerasDevice::try_mean_update`]) and that is read back only when a log or a saved state
//! needs the values.

use super::{inputs, MeanState, MetricSet, RowMetric};
use crate::{
    device::{Buffer, KerasDevice},
    target::Target,
    Error, Result,
};

/// Which running mean a slot of the buffer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// The loss tracker (always slot 0).
    Loss,
    /// Member `i` of the compiled metrics.
    Metric(usize),
    /// Member `i` of the weighted metrics.
    Weighted(usize),
}

/// The device copy of the loss tracker's and the row-form metrics' states. While it is live
/// ([`start`](ResidentMeans::start) to [`stop`](ResidentMeans::stop)) the device copy is the
/// one that is current; [`read_into`](ResidentMeans::read_into) brings the host metrics level
/// with it.
#[derive(Debug)]
pub(crate) struct ResidentMeans<D: KerasDevice> {
    slots: Vec<(Owner, RowMetric)>,
    state: Option<Buffer<D>>,
    host: Vec<f32>,
}

impl<D: KerasDevice> Default for ResidentMeans<D> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            state: None,
            host: Vec::new(),
        }
    }
}

impl<D: KerasDevice> ResidentMeans<D> {
    /// Whether the device copy is the current one.
    pub(crate) fn is_live(&self) -> bool {
        self.state.is_some()
    }

    /// Drops the device copy: the host states are the current ones again (after a reset or a
    /// restore of the host states, or once they were read back for good).
    pub(crate) fn stop(&mut self) {
        self.state = None;
        self.slots.clear();
    }

    /// Makes the device copy current: the slots of the loss tracker and of every member with a
    /// row form, holding their host states.
    pub(crate) fn start<const K: usize, T: Target, Mt, Wm>(
        &mut self,
        dev: &D,
        loss: &MeanState,
        metrics: &Mt,
        weighted: &Wm,
    ) -> Result<()>
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        self.slots.clear();
        self.slots.push((Owner::Loss, RowMetric::Value));
        metrics.visit_row_forms(&mut |i, form| {
            if let Some(form) = form {
                self.slots.push((Owner::Metric(i), form));
            }
        });
        weighted.visit_row_forms(&mut |i, form| {
            if let Some(form) = form {
                self.slots.push((Owner::Weighted(i), form));
            }
        });
        let states = metrics.state_values_all();
        let weighted_states = weighted.state_values_all();
        self.host.clear();
        self.host.extend([loss.total, loss.count]);
        for &(owner, _) in &self.slots[1..] {
            let state = match owner {
                Owner::Metric(i) => states.get(i),
                Owner::Weighted(i) => weighted_states.get(i),
                Owner::Loss => None,
            };
            match state {
                Some(Some(values)) if values.len() == 2 => self.host.extend_from_slice(values),
                _ => {
                    return Err(Error::invalid(
                        "metrics",
                        "a metric with a row form must keep a [total, count] state",
                    ))
                }
            }
        }
        self.state = Some(
            dev.try_upload(&self.host)
                .map_err(Error::on_device::<D>("the metric states"))?,
        );
        Ok(())
    }

    /// Adds one training batch to the metric slots: `y_pred` is the model's output on the
    /// device (`rows × cols`, row-major), `y_true` and `weights` the batch's labels and sample
    /// weights (the weighted metrics get the weights).
    pub(crate) fn add_batch(
        &mut self,
        dev: &D,
        y_pred: &Buffer<D>,
        rows: usize,
        cols: usize,
        y_true: &[f32],
        weights: Option<&[f32]>,
    ) -> Result<()> {
        let Some(state) = self.state.as_mut() else {
            return Ok(());
        };
        if self.slots.len() == 1 {
            return Ok(());
        }
        for &(_, form) in &self.slots[1..] {
            let expected = if form.sparse_labels() {
                rows
            } else {
                rows * cols
            };
            if y_true.len() != expected {
                return Err(Error::ShapeMismatch {
                    name: "y_true",
                    expected: format!("{expected} values"),
                    got: format!("{} values", y_true.len()),
                });
            }
            if form.indexes_by_label() {
                // The kernel indexes each row by its label: check them here, as the host
                // metric does, so a bad label is a typed error and never an out-of-row read.
                for (r, &label) in y_true.iter().enumerate() {
                    inputs::class_index(label, r, cols)?;
                }
            }
        }
        inputs::check_weights(weights, rows)?;
        let upload =
            |values: &[f32], what| dev.try_upload(values).map_err(Error::on_device::<D>(what));
        let labels = upload(y_true, "the metric labels")?;
        let any_weighted = self
            .slots
            .iter()
            .any(|(owner, _)| matches!(owner, Owner::Weighted(_)));
        let weights = match weights.filter(|_| any_weighted) {
            Some(w) => Some(upload(w, "the metric weights")?),
            None => None,
        };
        for (slot, &(owner, form)) in self.slots.iter().enumerate().skip(1) {
            let batch = crate::kernels::MeanBatch {
                y_pred,
                y_true: &labels,
                weights: match owner {
                    Owner::Weighted(_) => weights.as_ref(),
                    _ => None,
                },
                unit_weight: 1.0,
                rows,
                cols,
            };
            dev.try_mean_update(form, &batch, state, 2 * slot)
                .map_err(Error::on_device::<D>("a metric update"))?;
        }
        Ok(())
    }

    /// Adds a batch's loss (a one-value buffer on the device) to the loss tracker, weighted by
    /// the batch's size as Keras's loss tracker is.
    pub(crate) fn add_loss(&mut self, dev: &D, loss: &Buffer<D>, batch_size: usize) -> Result<()> {
        let Some(state) = self.state.as_mut() else {
            return Ok(());
        };
        let batch = crate::kernels::MeanBatch {
            y_pred: loss,
            y_true: loss,
            weights: None,
            unit_weight: batch_size as f32,
            rows: 1,
            cols: 1,
        };
        dev.try_mean_update(RowMetric::Value, &batch, state, 0)
            .map_err(Error::on_device::<D>("the loss tracker"))
    }

    /// Reads the device copy back into the host states (the one read per log). It stays live.
    pub(crate) fn read_into<const K: usize, T: Target, Mt, Wm>(
        &mut self,
        dev: &D,
        loss: &mut MeanState,
        metrics: &mut Mt,
        weighted: &mut Wm,
    ) -> Result<()>
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let mut host = std::mem::take(&mut self.host);
        let read = self.visit_states(dev, &mut host, |owner, values| match owner {
            Owner::Loss => {
                *loss = MeanState::from_values(values)?;
                Ok(())
            }
            Owner::Metric(i) => metrics.load_member_state(i, values),
            Owner::Weighted(i) => weighted.load_member_state(i, values),
        });
        self.host = host;
        read
    }

    /// Writes the device copy over saved states (`state_values_all` of both sets and the loss
    /// tracker), for a resume point taken while the device copy is ahead of the host's.
    pub(crate) fn overlay(
        &self,
        dev: &D,
        loss: &mut MeanState,
        metric_states: &mut [Option<Vec<f32>>],
        weighted_states: &mut [Option<Vec<f32>>],
    ) -> Result<()> {
        self.visit_states(dev, &mut Vec::new(), |owner, values| {
            let entry = match owner {
                Owner::Loss => {
                    *loss = MeanState::from_values(values)?;
                    return Ok(());
                }
                Owner::Metric(i) => metric_states.get_mut(i),
                Owner::Weighted(i) => weighted_states.get_mut(i),
            };
            if let Some(entry) = entry {
                *entry = Some(values.to_vec());
            }
            Ok(())
        })
    }

    /// Downloads the device copy (when live) into `host` and calls `f` with each slot's owner
    /// and its `[total, count]`.
    fn visit_states(
        &self,
        dev: &D,
        host: &mut Vec<f32>,
        mut f: impl FnMut(Owner, &[f32]) -> Result<()>,
    ) -> Result<()> {
        let Some(state) = self.state.as_ref() else {
            return Ok(());
        };
        host.resize(2 * self.slots.len(), 0.0);
        dev.try_download(state, host)
            .map_err(Error::on_device::<D>("the metric states"))?;
        for (slot, &(owner, _)) in self.slots.iter().enumerate() {
            f(owner, &host[2 * slot..2 * slot + 2])?;
        }
        Ok(())
    }
}
