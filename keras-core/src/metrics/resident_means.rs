//! The running means of the loss tracker and of the metrics with a row form, kept where the
//! model's output is: one device buffer of `[total, count]` pairs that each training batch adds
//! to ([`KerasDevice::try_mean_update`]) and that is read back only when a log or a saved state
//! needs the values; beside it, the saved state of each metric with a confusion form or a
//! column form, whose counts or sums each batch adds to
//! ([`KerasDevice::try_confusion_update`], [`KerasDevice::try_column_update`]); and the counts
//! each IoU-form member's batches added since the device copy started
//! ([`KerasDevice::try_iou_update`]), which a read adds to the member's saved state.

use super::{
    inputs, iou_matrix, ColumnForm, ConfusionForm, IouForm, MeanState, MetricSet, RowMetric,
};
use crate::{
    device::{Buffer, KerasDevice},
    kernels::{iou, ClassIds, ConfusionConsts},
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

/// A confusion-matrix metric's whole saved state on the device, with its form and the form's
/// constants there.
#[derive(Debug)]
struct CountSlot<D: KerasDevice> {
    owner: Owner,
    form: ConfusionForm<'static>,
    consts: ConfusionConsts<Buffer<D>>,
    state: Buffer<D>,
}

/// A column-sum metric's whole saved state on the device, with its form.
#[derive(Debug)]
struct ColumnSlot<D: KerasDevice> {
    owner: Owner,
    form: ColumnForm,
    state: Buffer<D>,
}

/// An IoU metric's counts on the device since the copy started, with its form and its saved
/// state at the start.
#[derive(Debug)]
struct IouSlot<D: KerasDevice> {
    owner: Owner,
    form: IouForm,
    saved: Vec<f32>,
    counts: D::IouCounts,
}

/// The device copy of the loss tracker's and of the device-form metrics' states. While it is
/// live ([`start`](ResidentMeans::start) to [`stop`](ResidentMeans::stop)) the device copy is
/// the one that is current; [`read_into`](ResidentMeans::read_into) brings the host metrics
/// level with it.
#[derive(Debug)]
pub(crate) struct ResidentMeans<D: KerasDevice> {
    slots: Vec<(Owner, RowMetric)>,
    state: Option<Buffer<D>>,
    counts: Vec<CountSlot<D>>,
    columns: Vec<ColumnSlot<D>>,
    ious: Vec<IouSlot<D>>,
    host: Vec<f32>,
}

impl<D: KerasDevice> Default for ResidentMeans<D> {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            state: None,
            counts: Vec::new(),
            columns: Vec::new(),
            ious: Vec::new(),
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
        self.counts.clear();
        self.columns.clear();
        self.ious.clear();
    }

    /// Makes the device copy current: the slots of the loss tracker and of every member with a
    /// row form, and the states of every member with a confusion form or a column form, holding
    /// their host states. A form that does not fit a `K`-wide output (a class id, `top_k` or
    /// label columns beyond it, label weights or column sums of another length) is the error
    /// the host update would give at the first batch.
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
        // Member `owner`'s saved state, at least `len` values long.
        let saved = |owner: Owner, len: usize, form: &str| {
            let state = match owner {
                Owner::Metric(i) => states.get(i),
                Owner::Weighted(i) => weighted_states.get(i),
                Owner::Loss => None,
            };
            match state {
                Some(Some(values)) if values.len() >= len => Ok(values),
                _ => Err(Error::invalid(
                    "metrics",
                    format!(
                        "a metric with a {form} must keep a saved state of {len} values at least"
                    ),
                )),
            }
        };
        self.host.clear();
        self.host.extend([loss.total, loss.count]);
        for &(owner, _) in &self.slots[1..] {
            match saved(owner, 2, "row form")? {
                values if values.len() == 2 => self.host.extend_from_slice(values),
                _ => {
                    return Err(Error::invalid(
                        "metrics",
                        "a metric with a row form must keep a [total, count] state",
                    ))
                }
            }
        }
        let mut counts = Vec::new();
        // Each member's form with its owner: the compiled metrics', then the weighted ones'.
        let mut forms = Vec::new();
        metrics.visit_confusion_forms(&mut |i, f| {
            forms.extend(f.map(|f| (Owner::Metric(i), f.into_owned())));
        });
        weighted.visit_confusion_forms(&mut |i, f| {
            forms.extend(f.map(|f| (Owner::Weighted(i), f.into_owned())));
        });
        let upload =
            |values: &[f32], what| dev.try_upload(values).map_err(Error::on_device::<D>(what));
        for (owner, form) in forms {
            fits_width(&form, K)?;
            let state = saved(owner, form.offset + 4 * form.len(), "confusion form")?;
            let consts = ConfusionConsts {
                thresholds: upload(&form.thresholds, "the metric thresholds")?,
                label_weights: match &form.label_weights {
                    Some(lw) => Some(upload(lw, "the metric label weights")?),
                    None => None,
                },
            };
            counts.push(CountSlot {
                owner,
                consts,
                state: upload(state, "the metric states")?,
                form,
            });
        }
        let mut columns = Vec::new();
        let mut column_forms = Vec::new();
        metrics
            .visit_column_forms(&mut |i, f| column_forms.extend(f.map(|f| (Owner::Metric(i), f))));
        weighted.visit_column_forms(&mut |i, f| {
            column_forms.extend(f.map(|f| (Owner::Weighted(i), f)));
        });
        for (owner, form) in column_forms {
            if !form.fits(K) {
                return Err(Error::ShapeMismatch {
                    name: "y_pred",
                    expected: format!("{} columns, as the metric's state has", form.slots),
                    got: format!("{K} columns"),
                });
            }
            let state = saved(owner, form.offset + form.len(), "column form")?;
            columns.push(ColumnSlot {
                owner,
                form,
                state: upload(state, "the metric states")?,
            });
        }
        let mut ious = Vec::new();
        let mut iou_forms = Vec::new();
        metrics.visit_iou_forms(&mut |i, f| iou_forms.extend(f.map(|f| (Owner::Metric(i), f))));
        weighted.visit_iou_forms(&mut |i, f| iou_forms.extend(f.map(|f| (Owner::Weighted(i), f))));
        for (owner, form) in iou_forms {
            if !form.fits(K) {
                return Err(Error::ShapeMismatch {
                    name: "y_pred",
                    expected: format!("at most {} scores per row, one per class", form.classes),
                    got: format!("{K} columns"),
                });
            }
            let saved = saved(owner, form.offset + 2 * form.cells(), "IoU form")?.clone();
            let counts = dev
                .try_iou_counts(form.device_len())
                .map_err(Error::on_device::<D>("the metric states"))?;
            ious.push(IouSlot {
                owner,
                form,
                saved,
                counts,
            });
        }
        self.state = Some(upload(&self.host, "the metric states")?);
        self.counts = counts;
        self.columns = columns;
        self.ious = ious;
        Ok(())
    }

    /// Adds one training batch to the metric slots: `y_pred` is the model's output on the
    /// device (`rows × cols`, row-major), `y_true` and `weights` the batch's labels and sample
    /// weights (the weighted metrics get the weights), uploaded through `staging`.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn add_batch(
        &mut self,
        dev: &D,
        staging: &mut D::Staging,
        y_pred: &Buffer<D>,
        rows: usize,
        cols: usize,
        y_true: &[f32],
        weights: Option<&[f32]>,
    ) -> Result<()> {
        let Some(state) = self.state.as_mut() else {
            return Ok(());
        };
        let dense = !self.counts.is_empty() || !self.columns.is_empty();
        if self.slots.len() == 1 && !dense && self.ious.is_empty() {
            return Ok(());
        }
        if dense && y_true.len() != rows * cols {
            return Err(Error::ShapeMismatch {
                name: "y_true",
                expected: format!("{} values", rows * cols),
                got: format!("{} values", y_true.len()),
            });
        }
        for &(_, form) in self.slots[1..].iter().filter(|(_, f)| f.reads_labels()) {
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
        for slot in &self.ious {
            check_iou_labels(&slot.form, y_true, rows, cols)?;
        }
        inputs::check_weights(weights, rows)?;
        // Through the staging buffers: the upload does not wait for the step's kernels. The
        // buffers come from the device's cache and are not zero-filled first (the upload writes
        // every value).
        let mut upload = |values: &[f32], what| {
            dev.try_upload_tensor(staging, values, (values.len(),))
                .map_err(Error::on_device::<D>(what))
        };
        let labels = upload(y_true, "the metric labels")?;
        let labels = labels.storage();
        let any_weighted = self
            .slots
            .iter()
            .map(|(owner, _)| owner)
            .chain(self.counts.iter().map(|c| &c.owner))
            .chain(self.columns.iter().map(|c| &c.owner))
            .chain(self.ious.iter().map(|c| &c.owner))
            .any(|owner| matches!(owner, Owner::Weighted(_)));
        let weights = match weights.filter(|_| any_weighted) {
            Some(w) => Some(upload(w, "the metric weights")?),
            None => None,
        };
        let weights = weights.as_ref().map(|w| w.storage());
        // The batch as `owner` sees it: the weighted metrics get the weights.
        let batch_for = |owner: Owner| crate::kernels::MeanBatch {
            y_pred,
            y_true: labels,
            weights: match owner {
                Owner::Weighted(_) => weights,
                _ => None,
            },
            unit_weight: 1.0,
            rows,
            cols,
        };
        let failed = Error::on_device::<D>("a metric update");
        for (slot, &(owner, form)) in self.slots.iter().enumerate().skip(1) {
            dev.try_mean_update(form, &batch_for(owner), state, 2 * slot)
                .map_err(&failed)?;
        }
        for slot in &mut self.counts {
            let batch = batch_for(slot.owner);
            dev.try_confusion_update(&slot.form, &slot.consts, &batch, &mut slot.state)
                .map_err(&failed)?;
        }
        for slot in &mut self.columns {
            dev.try_column_update(&slot.form, &batch_for(slot.owner), &mut slot.state)
                .map_err(&failed)?;
        }
        for slot in &mut self.ious {
            dev.try_iou_update(&slot.form, &batch_for(slot.owner), &mut slot.counts)
                .map_err(&failed)?;
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
    /// and its `[total, count]`, then with each confusion-form and column-form member's owner
    /// and saved state, then with each IoU-form member's owner and its saved state with the
    /// device's counts added. A predicted class id out of range that an IoU count recorded is
    /// the [`Error::ClassOutOfRange`] the host update would have given.
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
        let whole = self
            .counts
            .iter()
            .map(|c| (c.owner, &c.state))
            .chain(self.columns.iter().map(|c| (c.owner, &c.state)));
        for (owner, state) in whole {
            host.resize(dfdx::tensor::Storage::<f32>::len(dev, state), 0.0);
            dev.try_download(state, host)
                .map_err(Error::on_device::<D>("the metric states"))?;
            f(owner, host)?;
        }
        let mut counts = Vec::new();
        for slot in &self.ious {
            dev.try_read_iou_counts(&slot.counts, &mut counts)
                .map_err(Error::on_device::<D>("the metric states"))?;
            if let Some(bad) = iou::bad_prediction(&slot.form, &counts) {
                return Err(Error::ClassOutOfRange {
                    label: bad.value,
                    index: bad.index,
                    num_classes: slot.form.classes,
                });
            }
            let state = slot.form.add_counts(&slot.saved, &counts).ok_or_else(|| {
                Error::invalid("metrics", "an IoU state is shorter than its form")
            })?;
            f(slot.owner, &state)?;
        }
        Ok(())
    }
}

/// Checks a batch's labels for an IoU form before they reach the kernel, as the host update
/// does: as many as the form reads, and each class id (when labels are ids) within the classes
/// or the ignored class.
fn check_iou_labels(form: &IouForm, y_true: &[f32], rows: usize, cols: usize) -> Result<()> {
    let expected = form.labels(rows, cols);
    if y_true.len() != expected {
        return Err(Error::ShapeMismatch {
            name: "y_true",
            expected: format!("{expected} values"),
            got: format!("{} values", y_true.len()),
        });
    }
    if form.truth == ClassIds::Values {
        for (i, &label) in y_true.iter().enumerate() {
            iou_matrix::checked_id(label, i, form.classes, form.ignore_class)?;
        }
    }
    Ok(())
}

/// Whether a confusion form fits a `width`-wide output: the error the host update gives
/// otherwise.
fn fits_width(form: &ConfusionForm<'_>, width: usize) -> Result<()> {
    if let Some(id) = form.class_id.filter(|&id| id >= width) {
        return Err(Error::invalid(
            "class_id",
            format!("class_id = {id} is not a column of predictions with {width} columns"),
        ));
    }
    if let Some(k) = form.top_k.filter(|&k| k > width) {
        return Err(Error::invalid(
            "top_k",
            format!("top_k = {k} is larger than the {width} predictions per row"),
        ));
    }
    if let Some(lw) = form.label_weights.as_ref().filter(|lw| lw.len() != width) {
        return Err(Error::ShapeMismatch {
            name: "label_weights",
            expected: format!("{width} weights, one per column"),
            got: format!("{} weights", lw.len()),
        });
    }
    if form.labels != form.labels_for(width) {
        return Err(Error::ShapeMismatch {
            name: "y_pred",
            expected: format!("{} label columns", form.labels),
            got: format!("{width} label columns"),
        });
    }
    Ok(())
}
