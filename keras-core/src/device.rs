//! What the trainer needs from a device beyond dfdx's `Device`: the optimizer's update of a
//! variable where it lives (a CPU kernel and a CUDA kernel side by side, see
//! [`kernels::update`](crate::kernels::update)), moving optimizer slots between host and device,
//! and reading a gradient to the host or writing values back, without allocating.

use crate::error::DeviceError;
use crate::kernels::update::{RuleStep, Slots, VarBuffers};
use crate::kernels::{
    ActivationKernel, BatchNormKernel, ColumnForm, ConfusionConsts, ConfusionForm, ConvKernel,
    DenseKernel, DropoutMaskKernel, EmbeddingKernel, GlobalPoolKernel, IouForm, LayerNormKernel,
    MeanBatch, NormalizeKernel, RowMetric, SoftmaxCrossentropyKernel, Stages,
};
use dfdx::{
    shapes::Shape,
    tensor::{Cache, Cpu, Gradients, HasErr, Storage, Tensor},
    tensor_ops::Device,
};

/// A device's buffer of `f32` values (dfdx's `Storage::Vec`): `Vec<f32>` on `Cpu`, a CUDA slice
/// on `Cuda`.
pub type Buffer<D> = <D as Storage<f32>>::Vec;

/// A dfdx device the trainer can run on: [`Cpu`], or `Cuda` with the `cuda` feature.
///
/// It carries the device's kernels: `Dense`'s product ([`DenseKernel`], in `f32`), `Conv2D`'s
/// convolution and the poolings ([`ConvKernel`], in `f32`), `LayerNormalization`'s
/// ([`LayerNormKernel`]) and `BatchNormalization`'s ([`BatchNormKernel`]), the crossentropy
/// from logits ([`SoftmaxCrossentropyKernel`]), `Dropout`'s mask ([`DropoutMaskKernel`]),
/// `Embedding`'s lookup on float-coded ids ([`EmbeddingKernel`]), the global average poolings
/// ([`GlobalPoolKernel`]), the `Normalization` layer's arithmetic ([`NormalizeKernel`]), the
/// element-wise activations dfdx has no single op for ([`ActivationKernel`]) and the
/// optimizer's update ([`try_update_variable`](KerasDevice::try_update_variable)).
///
/// The trainer turns on the device's allocation [`Cache`] (see
/// [`Trainer::compile`](crate::Trainer::compile)), so that each step's activations and
/// gradients reuse the buffers of the step before.
pub trait KerasDevice:
    Device<f32>
    + HasErr<Err: DeviceError>
    + DenseKernel<f32>
    + ConvKernel<f32>
    + LayerNormKernel<f32>
    + BatchNormKernel<f32>
    + SoftmaxCrossentropyKernel
    + DropoutMaskKernel<f32>
    + EmbeddingKernel
    + GlobalPoolKernel<f32>
    + NormalizeKernel<f32>
    + ActivationKernel<f32>
    + Cache
    + Clone
    + 'static
{
    /// Whether this device's buffers are host memory (`Cpu`). Elsewhere (`Cuda`) the trainer
    /// computes the loss on the device where it can, so that the logits stay there (see
    /// [`Trainer::set_loss_on_device`](crate::Trainer::set_loss_on_device)).
    const HOST_MEMORY: bool;

    /// Copies the gradient of `t` into `out` (its length is `t`'s element count). A parameter
    /// whose gradient was never allocated reads as zeros.
    fn copy_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err>;

    /// Copies the gradient of `t` into `out`, like [`copy_grad_into`](KerasDevice::copy_grad_into),
    /// then zeroes it.
    fn take_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        Self::copy_grad_into(grads, t, out)?;
        t.device().try_fill_with_zeros(grads.get_or_alloc_mut(t)?)
    }

    /// Writes `values` (as many as `t` has elements) into `t`.
    fn write_values<S: Shape>(t: &mut Tensor<S, f32, Self>, values: &[f32]) {
        t.copy_from(values);
    }

    /// The memory this device has in use, in bytes, as far as it can tell: the bound on the
    /// allocation cache (see [`Trainer::set_cache_limit`](crate::Trainer::set_cache_limit))
    /// watches its growth. `None` (the default) where the device cannot say.
    fn memory_in_use(&self) -> Option<usize> {
        None
    }

    /// A buffer on this device holding `values`.
    fn try_upload(&self, values: &[f32]) -> Result<Buffer<Self>, Self::Err>;

    /// Marks on this device's timeline (see [`kernels::marks`](crate::kernels::marks)): the
    /// host's clock on `Cpu`, CUDA events on `Cuda`.
    type Marks: std::fmt::Debug + Send;

    /// No marks yet.
    fn try_marks(&self) -> Result<Self::Marks, Self::Err>;

    /// Records a mark after everything queued so far.
    fn try_mark(&self, marks: &mut Self::Marks) -> Result<(), Self::Err>;

    /// The milliseconds between consecutive marks, into `out` (waiting for the device to reach
    /// the last); forgets the marks.
    fn try_take_intervals(
        &self,
        marks: &mut Self::Marks,
        out: &mut Vec<f64>,
    ) -> Result<(), Self::Err>;

    /// The host memory per-step uploads go through (see
    /// [`kernels::staging`](crate::kernels::staging)): nothing on `Cpu`; on `Cuda` a ring of
    /// pinned buffers.
    type Staging: std::fmt::Debug + Send;

    /// A new, empty [`Staging`](KerasDevice::Staging).
    fn try_staging(&self) -> Result<Self::Staging, Self::Err>;

    /// Copies `values` into the first `values.len()` elements of `dst`, in the order of the
    /// device's work: after everything enqueued before, before everything enqueued after. It
    /// may return before the copy ran (on `Cuda` it waits only for the copy made through the
    /// same staging buffer several uploads before); `values` may change as soon as it returns.
    /// A `dst` shorter than `values` is an error and changes nothing.
    fn try_upload_into(
        &self,
        staging: &mut Self::Staging,
        values: &[f32],
        dst: &mut Buffer<Self>,
    ) -> Result<(), Self::Err>;

    /// A new tensor of `shape` holding `values` (exactly as many as its elements, else an error
    /// before anything is allocated), uploaded as [`try_upload_into`](Self::try_upload_into)
    /// does. Its buffer comes from the device's allocator (its cache); on `Cuda` it is not
    /// zero-filled first, since the upload writes every element.
    fn try_upload_tensor<S: Shape>(
        &self,
        staging: &mut Self::Staging,
        values: &[f32],
        shape: S,
    ) -> Result<Tensor<S, f32, Self>, Self::Err>;

    /// Copies `src` (as long as `dst`) into `dst` on the host.
    fn try_download(&self, src: &Buffer<Self>, dst: &mut [f32]) -> Result<(), Self::Err>;

    /// Runs `f` over the first `len` values of `buffer` in host memory and keeps what it
    /// wrote: in place on `Cpu`; through a host copy (down, `f`, up) where the buffer is device
    /// memory. How a data-parallel `fit` sums gradients across processes with a host
    /// communication library (MPI).
    fn try_on_host<F>(&self, buffer: &mut Buffer<Self>, len: usize, f: F) -> crate::Result<()>
    where
        F: FnOnce(&mut [f32]) -> crate::Result<()>;

    /// Replaces the first `len` values of `buffer` with their sum over `dist`'s processes:
    /// through host memory and the distribution's own all-reduce (MPI) by default; on `Cuda`,
    /// with NCCL on the device when `dist` has a communicator (feature `nccl`).
    fn try_all_reduce_sum<Dist: crate::distribution::Distribution>(
        &self,
        buffer: &mut Buffer<Self>,
        len: usize,
        dist: &Dist,
    ) -> crate::Result<()> {
        self.try_on_host(buffer, len, |g| dist.all_reduce_sum(g))
    }

    /// Sums of squares of gradients, in `f64`, where the device keeps them (host memory on `Cpu`,
    /// device memory on `Cuda`): what `clipnorm` and `global_clipnorm` scale by.
    type SumSquares: std::fmt::Debug + Send;

    /// `n` sums of squares, zeroed.
    fn try_sum_squares(&self, n: usize) -> Result<Self::SumSquares, Self::Err>;

    /// Zeroes every sum.
    fn try_clear_sum_squares(&self, sums: &mut Self::SumSquares) -> Result<(), Self::Err>;

    /// Adds the sum of the squares of `grad`'s elements (in `f64`) to `sums[index]`.
    fn try_add_sum_squares(
        &self,
        grad: &Buffer<Self>,
        sums: &mut Self::SumSquares,
        index: usize,
    ) -> Result<(), Self::Err>;

    /// `sums[index]`, read to the host (on `Cuda` a copy that waits for the kernels queued
    /// before it): how a step with a loss scale, or `skip_non_finite`, learns whether every
    /// gradient is finite (a sum of squares in `f64` of `f32` values is finite exactly when
    /// they all are).
    fn try_read_sum_squares(&self, sums: &Self::SumSquares, index: usize)
        -> Result<f64, Self::Err>;

    /// A loss scale's undo ahead of a norm clip: `grad = grad / factor` (the arithmetic of the
    /// update's own unscale stage), so that the clip's norm is the unscaled gradient's.
    fn try_unscale(&self, grad: &mut Buffer<Self>, factor: f32) -> Result<(), Self::Err>;

    /// An update step's gradient accumulation ahead of a norm clip: `grad = (grad +
    /// accumulator) / steps`, then the accumulator zeroed (the arithmetic of the update's own
    /// accumulation stage).
    fn try_accumulate(
        &self,
        grad: &mut Buffer<Self>,
        accumulator: &mut Buffer<Self>,
        steps: f32,
    ) -> Result<(), Self::Err>;

    /// Whether [`try_update_variable`](KerasDevice::try_update_variable) runs a rule on this
    /// device: every rule on `Cpu` (its own host update), one with device kernels
    /// (`device_kernel`; all of Keras's twelve have them) on `Cuda`.
    fn runs_update(device_kernel: bool) -> bool;

    /// `rule`'s update of one variable on its own buffers, inside the base optimizer's `stages`
    /// (`rule.host` is `None` exactly when the stages only accumulate the gradient):
    /// `value` (its values, updated in place), `grad` (its gradient, zeroed for the next step)
    /// and `state` (the rule's slots, each as long as `value`, and the accumulator and moving
    /// average the stages use). With a norm clip in `stages`, `norm` is the sums of squares and
    /// the index of this variable's (`clipnorm`) or of the global one (`global_clipnorm`). Only
    /// for rules [`runs_update`](KerasDevice::runs_update) accepts.
    #[allow(clippy::too_many_arguments)]
    fn try_update_variable<F: Fn(&mut [f32], &[f32], Slots<'_>) + Sync>(
        &self,
        rule: RuleStep<F>,
        stages: &Stages,
        norm: Option<(&Self::SumSquares, usize)>,
        value: &mut Buffer<Self>,
        grad: &mut Buffer<Self>,
        state: &mut VarBuffers<Buffer<Self>>,
    ) -> Result<(), Self::Err>;

    /// Adds one batch of a mean metric's rows (`form` over `batch`, see
    /// [`kernels::metric`](crate::kernels::metric)) to the running `[total, count]` at
    /// `state[offset..offset + 2]`, where the buffers live. A batch whose buffers are shorter
    /// than its shape says is an error, and `state` is left as it was.
    fn try_mean_update(
        &self,
        form: RowMetric,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
        offset: usize,
    ) -> Result<(), Self::Err>;

    /// Adds one batch (`batch.unit_weight` unused; dense labels) to the confusion-matrix counts
    /// a metric's saved state holds from `form.offset` (see
    /// [`kernels::confusion`](crate::kernels::confusion)), where the buffers live; `consts` are
    /// the form's thresholds and label weights on this device. A batch that does not fit the
    /// form (short buffers, a class id or label columns beyond the width) is an error and
    /// changes nothing.
    fn try_confusion_update(
        &self,
        form: &ConfusionForm<'_>,
        consts: &ConfusionConsts<Buffer<Self>>,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
    ) -> Result<(), Self::Err>;

    /// Adds one batch (`batch.unit_weight` unused; dense labels) to the column sums a metric's
    /// saved state holds from `form.offset` (see [`kernels::columns`](crate::kernels::columns)),
    /// where the buffers live. A batch that does not fit the form (short buffers, another
    /// number of columns) is an error and changes nothing.
    fn try_column_update(
        &self,
        form: &ColumnForm,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
    ) -> Result<(), Self::Err>;

    /// An IoU metric's counts where the device keeps them: `i64` values (host memory on `Cpu`,
    /// device memory on `Cuda`), see [`kernels::iou`](crate::kernels::iou).
    type IouCounts: std::fmt::Debug + Send;

    /// `len` counts, zeroed.
    fn try_iou_counts(&self, len: usize) -> Result<Self::IouCounts, Self::Err>;

    /// Copies every count into `out` (resized to their number).
    fn try_read_iou_counts(
        &self,
        counts: &Self::IouCounts,
        out: &mut Vec<i64>,
    ) -> Result<(), Self::Err>;

    /// Adds one batch (`batch.unit_weight` unused; [`IouForm::labels`] labels) to an IoU
    /// metric's counts (see [`kernels::iou`](crate::kernels::iou)), where the buffers live. A
    /// predicted class id outside the classes is skipped and recorded in the counts' check
    /// words. A batch that does not fit the form (short buffers, another width) is an error and
    /// changes nothing.
    fn try_iou_update(
        &self,
        form: &IouForm,
        batch: &MeanBatch<'_, Buffer<Self>>,
        counts: &mut Self::IouCounts,
    ) -> Result<(), Self::Err>;
}

impl DeviceError for dfdx::tensor::CpuError {
    fn is_out_of_memory(&self) -> bool {
        matches!(self, dfdx::tensor::CpuError::OutOfMemory)
    }
}

impl KerasDevice for Cpu {
    const HOST_MEMORY: bool = true;

    fn copy_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        let g = grads.get_or_alloc_mut(t)?;
        out.copy_from_slice(&g[..out.len()]);
        Ok(())
    }

    /// One pass over the gradient, on rayon's threads for large tensors: copy, then zero.
    fn take_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        let g = grads.get_or_alloc_mut(t)?;
        let len = out.len();
        crate::kernels::par_take(out, &mut g[..len]);
        Ok(())
    }

    /// On rayon's threads for large contiguous tensors.
    fn write_values<S: Shape>(t: &mut Tensor<S, f32, Self>, values: &[f32]) {
        match crate::kernels::contiguous_mut(t) {
            Some(dst) if dst.len() == values.len() => crate::kernels::par_copy(dst, values),
            _ => t.copy_from(values),
        }
    }

    /// The process's resident memory (`VmRSS` of `/proc/self/status`); `None` off Linux.
    fn memory_in_use(&self) -> Option<usize> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    }

    fn try_upload(&self, values: &[f32]) -> Result<Buffer<Self>, Self::Err> {
        let mut buffer = self.try_alloc_len(values.len())?;
        buffer.copy_from_slice(values);
        Ok(buffer)
    }

    fn try_download(&self, src: &Buffer<Self>, dst: &mut [f32]) -> Result<(), Self::Err> {
        dst.copy_from_slice(&src[..dst.len()]);
        Ok(())
    }

    type Marks = crate::kernels::marks::CpuMarks;

    fn try_marks(&self) -> Result<Self::Marks, Self::Err> {
        Ok(Default::default())
    }

    fn try_mark(&self, marks: &mut Self::Marks) -> Result<(), Self::Err> {
        marks.mark();
        Ok(())
    }

    fn try_take_intervals(
        &self,
        marks: &mut Self::Marks,
        out: &mut Vec<f64>,
    ) -> Result<(), Self::Err> {
        marks.take_intervals(out);
        Ok(())
    }

    type Staging = ();

    fn try_staging(&self) -> Result<(), Self::Err> {
        Ok(())
    }

    /// A copy: host memory is the device's.
    fn try_upload_into(
        &self,
        _staging: &mut (),
        values: &[f32],
        dst: &mut Buffer<Self>,
    ) -> Result<(), Self::Err> {
        dst.get_mut(..values.len())
            .ok_or(dfdx::tensor::CpuError::WrongNumElements)?
            .copy_from_slice(values);
        Ok(())
    }

    fn try_upload_tensor<S: Shape>(
        &self,
        staging: &mut (),
        values: &[f32],
        shape: S,
    ) -> Result<Tensor<S, f32, Self>, Self::Err> {
        if values.len() != shape.num_elements() {
            return Err(dfdx::tensor::CpuError::WrongNumElements);
        }
        let mut t = dfdx::tensor::ZerosTensor::try_zeros_like(self, &shape)?;
        self.try_upload_into(staging, values, t.storage_mut())?;
        Ok(t)
    }

    fn try_on_host<F>(&self, buffer: &mut Buffer<Self>, len: usize, f: F) -> crate::Result<()>
    where
        F: FnOnce(&mut [f32]) -> crate::Result<()>,
    {
        f(&mut buffer[..len])
    }

    type SumSquares = Vec<f64>;

    fn try_sum_squares(&self, n: usize) -> Result<Vec<f64>, Self::Err> {
        Ok(vec![0.0; n])
    }

    fn try_clear_sum_squares(&self, sums: &mut Vec<f64>) -> Result<(), Self::Err> {
        sums.fill(0.0);
        Ok(())
    }

    fn try_add_sum_squares(
        &self,
        grad: &Buffer<Self>,
        sums: &mut Vec<f64>,
        index: usize,
    ) -> Result<(), Self::Err> {
        sums[index] += crate::kernels::update::sum_squares(grad);
        Ok(())
    }

    fn try_read_sum_squares(&self, sums: &Vec<f64>, index: usize) -> Result<f64, Self::Err> {
        sums.get(index)
            .copied()
            .ok_or(dfdx::tensor::CpuError::WrongNumElements)
    }

    fn try_unscale(&self, grad: &mut Buffer<Self>, factor: f32) -> Result<(), Self::Err> {
        crate::kernels::update::unscale(grad, factor);
        Ok(())
    }

    fn try_accumulate(
        &self,
        grad: &mut Buffer<Self>,
        accumulator: &mut Buffer<Self>,
        steps: f32,
    ) -> Result<(), Self::Err> {
        let update_step = crate::kernels::Accumulate {
            steps,
            update: true,
        };
        update_step.apply(grad, accumulator);
        Ok(())
    }

    fn runs_update(_device_kernel: bool) -> bool {
        true
    }

    /// The rule's own [`UpdateRule::update`](crate::optimizers::UpdateRule::update) through
    /// `rule.host` ([`crate::kernels::update`]'s CPU kernel): for an elementwise rule piece by
    /// piece while the pieces are in cache, and on rayon's threads for large variables; for
    /// another (Lamb, Adafactor) over the whole variable, as on the host.
    fn try_update_variable<F: Fn(&mut [f32], &[f32], Slots<'_>) + Sync>(
        &self,
        rule: RuleStep<F>,
        stages: &Stages,
        norm: Option<(&Vec<f64>, usize)>,
        value: &mut Buffer<Self>,
        grad: &mut Buffer<Self>,
        state: &mut VarBuffers<Buffer<Self>>,
    ) -> Result<(), Self::Err> {
        let scale = stages
            .clip_norm
            .zip(norm)
            .map(|(clip, (sums, i))| clip.scale(sums[i]));
        let mut slots: [&mut [f32]; crate::kernels::update::MAX_SLOTS] = Default::default();
        let n_slots = state.slots.len().min(slots.len());
        for (view, slot) in slots.iter_mut().zip(state.slots.iter_mut()) {
            if let Some(slot) = slot {
                *view = &mut slot[..];
            }
        }
        let pieces = crate::kernels::update::VarPieces {
            value,
            grad,
            slots,
            n_slots,
            accumulator: state
                .accumulator
                .as_deref_mut()
                .map_or(&mut [], |b| &mut b[..]),
            ema: state.ema.as_deref_mut().map_or(&mut [], |b| &mut b[..]),
        };
        let update = |w: &mut [f32], g: &[f32], pieces: &mut [&mut [f32]]| {
            let mut slots: Slots<'_> = Default::default();
            for (to, from) in slots.iter_mut().zip(pieces.iter_mut()) {
                *to = &mut **from;
            }
            if let Some(host) = &rule.host {
                host(w, g, slots);
            }
        };
        if rule.elementwise {
            crate::kernels::update::update_in_place(pieces, stages, scale, &update);
        } else {
            crate::kernels::update::update_whole(pieces, stages, scale, &update);
        }
        Ok(())
    }

    /// The rows of [`RowMetric::row`], summed in order as the host metrics sum them.
    fn try_mean_update(
        &self,
        form: RowMetric,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
        offset: usize,
    ) -> Result<(), Self::Err> {
        if !batch.fits(form, |b| b.len(), state.len(), offset) {
            return Err(dfdx::tensor::CpuError::WrongNumElements);
        }
        let slices = MeanBatch {
            y_pred: &batch.y_pred[..],
            y_true: &batch.y_true[..],
            weights: batch.weights.map(|w| &w[..]),
            unit_weight: batch.unit_weight,
            rows: batch.rows,
            cols: batch.cols,
        };
        crate::kernels::metric::cpu_update(form, &slices, &mut state[offset..offset + 2]);
        Ok(())
    }

    /// The host metrics' selection and counting, on the host slices.
    fn try_confusion_update(
        &self,
        form: &ConfusionForm<'_>,
        _consts: &ConfusionConsts<Buffer<Self>>,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
    ) -> Result<(), Self::Err> {
        let cols = batch.cols;
        let fits = form.labels == form.labels_for(cols)
            && form.class_id.is_none_or(|id| id < cols)
            && state.len() >= form.offset + 4 * form.len();
        let (y_true, y_pred, weights) = dense_slices(batch, fits)?;
        crate::kernels::confusion::cpu_update(form, y_true, y_pred, cols, weights, state)
            .map_err(|_| dfdx::tensor::CpuError::WrongNumElements)
    }

    /// The host metrics' column sums, on the host slices.
    fn try_column_update(
        &self,
        form: &ColumnForm,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
    ) -> Result<(), Self::Err> {
        let fits = form.fits(batch.cols) && state.len() >= form.offset + form.len();
        let (y_true, y_pred, weights) = dense_slices(batch, fits)?;
        crate::kernels::columns::cpu_update(form, y_true, y_pred, batch.cols, weights, state);
        Ok(())
    }

    type IouCounts = Vec<i64>;

    fn try_iou_counts(&self, len: usize) -> Result<Vec<i64>, Self::Err> {
        Ok(vec![0; len])
    }

    fn try_read_iou_counts(&self, counts: &Vec<i64>, out: &mut Vec<i64>) -> Result<(), Self::Err> {
        out.clear();
        out.extend_from_slice(counts);
        Ok(())
    }

    /// The element-by-element counting of `kernels::iou`'s CPU kernel, on the host slices.
    fn try_iou_update(
        &self,
        form: &IouForm,
        batch: &MeanBatch<'_, Buffer<Self>>,
        counts: &mut Vec<i64>,
    ) -> Result<(), Self::Err> {
        let (rows, cols) = (batch.rows, batch.cols);
        let y_pred = batch.y_pred.get(..rows * cols);
        let y_true = batch.y_true.get(..form.labels(rows, cols));
        let weights = batch.weights.map(|w| w.get(..rows));
        let fits = form.fits(cols) && counts.len() >= form.device_len();
        match (y_true, y_pred, weights) {
            (Some(t), Some(p), None) if fits => {
                crate::kernels::iou::cpu_update(form, t, p, rows, cols, None, counts);
            }
            (Some(t), Some(p), Some(Some(w))) if fits => {
                crate::kernels::iou::cpu_update(form, t, p, rows, cols, Some(w), counts);
            }
            _ => return Err(dfdx::tensor::CpuError::WrongNumElements),
        }
        Ok(())
    }
}

/// A batch of dense labels as host slices (`rows × cols` labels and predictions, `rows`
/// weights), when its buffers are long enough and `fits` (the form's own checks); else the error
/// a CPU kernel gives for buffers that do not fit.
#[allow(clippy::type_complexity)]
fn dense_slices<'a>(
    batch: &MeanBatch<'a, Buffer<Cpu>>,
    fits: bool,
) -> Result<(&'a [f32], &'a [f32], Option<&'a [f32]>), dfdx::tensor::CpuError> {
    let n = batch.rows * batch.cols;
    let weights = batch.weights.map(|w| w.get(..batch.rows));
    match (batch.y_true.get(..n), batch.y_pred.get(..n), weights) {
        (Some(t), Some(p), None) if fits => Ok((t, p, None)),
        (Some(t), Some(p), Some(Some(w))) if fits => Ok((t, p, Some(w))),
        _ => Err(dfdx::tensor::CpuError::WrongNumElements),
    }
}

#[cfg(feature = "cuda")]
impl DeviceError for dfdx::tensor::CudaError {
    fn is_out_of_memory(&self) -> bool {
        use cudarc::driver::{sys::CUresult, DriverError};
        use dfdx::tensor::{CpuError, CudaError};
        match self {
            CudaError::Driver(DriverError(code)) => *code == CUresult::CUDA_ERROR_OUT_OF_MEMORY,
            CudaError::Blas(cudarc::cublas::result::CublasError(status)) => {
                *status == cudarc::cublas::sys::cublasStatus_t::CUBLAS_STATUS_ALLOC_FAILED
            }
            CudaError::Cpu(CpuError::OutOfMemory) => true,
            _ => false,
        }
    }
}

#[cfg(feature = "cuda")]
impl KerasDevice for dfdx::tensor::Cuda {
    const HOST_MEMORY: bool = false;

    fn copy_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        grads.try_alloc_for(t)?;
        grads.get(t).copy_into(out);
        Ok(())
    }

    fn try_upload(&self, values: &[f32]) -> Result<Buffer<Self>, Self::Err> {
        let mut buffer = self.try_alloc_len(values.len())?;
        self.cuda_device()
            .htod_sync_copy_into(values, &mut buffer)?;
        Ok(buffer)
    }

    fn try_download(&self, src: &Buffer<Self>, dst: &mut [f32]) -> Result<(), Self::Err> {
        self.cuda_device().dtoh_sync_copy_into(src, dst)?;
        Ok(())
    }

    type Marks = crate::kernels::marks::EventMarks;

    fn try_marks(&self) -> Result<Self::Marks, Self::Err> {
        Ok(crate::kernels::marks::EventMarks::new(
            self.cuda_device().clone(),
        ))
    }

    fn try_mark(&self, marks: &mut Self::Marks) -> Result<(), Self::Err> {
        Ok(marks.mark()?)
    }

    fn try_take_intervals(
        &self,
        marks: &mut Self::Marks,
        out: &mut Vec<f64>,
    ) -> Result<(), Self::Err> {
        Ok(marks.take_intervals(out)?)
    }

    type Staging = crate::kernels::staging::PinnedRing;

    fn try_staging(&self) -> Result<Self::Staging, Self::Err> {
        Ok(crate::kernels::staging::PinnedRing::new(
            self.cuda_device().clone(),
        ))
    }

    /// Through the next pinned buffer of `staging`, copied on the device's stream.
    fn try_upload_into(
        &self,
        staging: &mut Self::Staging,
        values: &[f32],
        dst: &mut Buffer<Self>,
    ) -> Result<(), Self::Err> {
        use cudarc::driver::DeviceSlice;
        if dst.len() < values.len() {
            return Err(crate::kernels::cuda_invalid_value());
        }
        Ok(staging.upload(values, dst)?)
    }

    fn try_upload_tensor<S: Shape>(
        &self,
        staging: &mut Self::Staging,
        values: &[f32],
        shape: S,
    ) -> Result<Tensor<S, f32, Self>, Self::Err> {
        if values.len() != shape.num_elements() {
            return Err(crate::kernels::cuda_invalid_value());
        }
        // Not zero-filled: the upload writes every element.
        let mut t = self.try_unfilled_like(&shape)?;
        self.try_upload_into(staging, values, t.storage_mut())?;
        Ok(t)
    }

    /// With NCCL (`DataParallel::with_nccl`), in place on the device's stream; otherwise
    /// through a host copy and MPI.
    fn try_all_reduce_sum<Dist: crate::distribution::Distribution>(
        &self,
        buffer: &mut Buffer<Self>,
        len: usize,
        dist: &Dist,
    ) -> crate::Result<()> {
        #[cfg(feature = "nccl")]
        if let Some(nccl) = dist.nccl() {
            return nccl.all_reduce_sum(buffer, len);
        }
        self.try_on_host(buffer, len, |g| dist.all_reduce_sum(g))
    }

    fn try_on_host<F>(&self, buffer: &mut Buffer<Self>, len: usize, f: F) -> crate::Result<()>
    where
        F: FnOnce(&mut [f32]) -> crate::Result<()>,
    {
        use cudarc::driver::DeviceSlice;
        let mut host = vec![0.0f32; buffer.len()];
        self.try_download(buffer, &mut host)
            .map_err(crate::Error::device)?;
        f(&mut host[..len])?;
        self.cuda_device()
            .htod_sync_copy_into(&host, buffer)
            .map_err(crate::Error::device)
    }

    type SumSquares = cudarc::driver::CudaSlice<f64>;

    fn try_sum_squares(&self, n: usize) -> Result<Self::SumSquares, Self::Err> {
        Ok(self.cuda_device().alloc_zeros::<f64>(n)?)
    }

    fn try_clear_sum_squares(&self, sums: &mut Self::SumSquares) -> Result<(), Self::Err> {
        Ok(self.cuda_device().memset_zeros(sums)?)
    }

    fn try_add_sum_squares(
        &self,
        grad: &Buffer<Self>,
        sums: &mut Self::SumSquares,
        index: usize,
    ) -> Result<(), Self::Err> {
        crate::kernels::update::launch_sum_squares(self, grad, sums, index)
    }

    fn try_read_sum_squares(
        &self,
        sums: &Self::SumSquares,
        index: usize,
    ) -> Result<f64, Self::Err> {
        use cudarc::driver::DeviceSlice;
        if index >= sums.len() {
            return Err(dfdx::tensor::CudaError::Driver(
                cudarc::driver::DriverError(
                    cudarc::driver::sys::CUresult::CUDA_ERROR_INVALID_VALUE,
                ),
            ));
        }
        let mut sum = [0.0f64];
        self.cuda_device()
            .dtoh_sync_copy_into(&sums.slice(index..index + 1), &mut sum)?;
        Ok(sum[0])
    }

    fn try_unscale(&self, grad: &mut Buffer<Self>, factor: f32) -> Result<(), Self::Err> {
        crate::kernels::update::launch_unscale(self, grad, factor)
    }

    fn try_accumulate(
        &self,
        grad: &mut Buffer<Self>,
        accumulator: &mut Buffer<Self>,
        steps: f32,
    ) -> Result<(), Self::Err> {
        crate::kernels::update::launch_accumulate(self, grad, accumulator, steps)
    }

    fn runs_update(device_kernel: bool) -> bool {
        device_kernel
    }

    /// The rule's kernels from `update.cu` ([`crate::kernels::update`]'s CUDA kernels: one for
    /// an elementwise rule, a few passes with their reductions on the device for Lamb and
    /// Adafactor), launched on the device's stream: no host synchronisation.
    fn try_update_variable<F: Fn(&mut [f32], &[f32], Slots<'_>) + Sync>(
        &self,
        rule: RuleStep<F>,
        stages: &Stages,
        norm: Option<(&Self::SumSquares, usize)>,
        value: &mut Buffer<Self>,
        grad: &mut Buffer<Self>,
        state: &mut VarBuffers<Buffer<Self>>,
    ) -> Result<(), Self::Err> {
        let Some(update) = rule.device else {
            return Err(dfdx::tensor::CudaError::Driver(
                cudarc::driver::DriverError(
                    cudarc::driver::sys::CUresult::CUDA_ERROR_NOT_SUPPORTED,
                ),
            ));
        };
        crate::kernels::update::launch_update(
            self,
            &update,
            stages,
            norm,
            rule.factors,
            value,
            grad,
            state,
        )
    }

    /// The GPU's used memory (total less free, `cuMemGetInfo`), all processes on it included;
    /// `None` when the driver cannot say (no CUDA context on this thread).
    fn memory_in_use(&self) -> Option<usize> {
        let (free, total) = cudarc::driver::result::mem_get_info().ok()?;
        Some(total.saturating_sub(free))
    }

    /// `metric.cu`'s kernel, on the device's stream: no host synchronisation.
    fn try_mean_update(
        &self,
        form: RowMetric,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
        offset: usize,
    ) -> Result<(), Self::Err> {
        crate::kernels::metric::launch_mean_update(self, form, batch, state, offset)
    }

    /// `confusion.cu`'s kernel, on the device's stream: no host synchronisation.
    fn try_confusion_update(
        &self,
        form: &ConfusionForm<'_>,
        consts: &ConfusionConsts<Buffer<Self>>,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
    ) -> Result<(), Self::Err> {
        crate::kernels::confusion::launch_confusion_update(self, form, consts, batch, state)
    }

    /// `columns.cu`'s kernel, on the device's stream: no host synchronisation.
    fn try_column_update(
        &self,
        form: &ColumnForm,
        batch: &MeanBatch<'_, Buffer<Self>>,
        state: &mut Buffer<Self>,
    ) -> Result<(), Self::Err> {
        crate::kernels::columns::launch_column_update(self, form, batch, state)
    }

    type IouCounts = cudarc::driver::CudaSlice<i64>;

    fn try_iou_counts(&self, len: usize) -> Result<Self::IouCounts, Self::Err> {
        Ok(self.cuda_device().alloc_zeros::<i64>(len)?)
    }

    fn try_read_iou_counts(
        &self,
        counts: &Self::IouCounts,
        out: &mut Vec<i64>,
    ) -> Result<(), Self::Err> {
        *out = self.cuda_device().dtoh_sync_copy(counts)?;
        Ok(())
    }

    /// `iou.cu`'s kernel, on the device's stream: no host synchronisation.
    fn try_iou_update(
        &self,
        form: &IouForm,
        batch: &MeanBatch<'_, Buffer<Self>>,
        counts: &mut Self::IouCounts,
    ) -> Result<(), Self::Err> {
        crate::kernels::iou::launch_iou_update(self, form, batch, counts)
    }
}
