//! The [`Trainer`]: a compiled model (Keras's `Model` after `compile`).

use dfdx::{
    nn::ZeroGrads,
    shapes::Const,
    tensor::{Cpu, Gradients, Merge, NoneTape, OwnedTape, Tape, Tensor, Trace},
    tensor_ops::{Backward, SumTo, TryMul},
};

use super::bounds::{InferenceModel, OutputShape, TrainModel};
use super::cache_budget::{CacheBudget, EmptyCacheOnDrop};
use super::step_profiler::StepProfiler;
use crate::{
    data::{Batch, SampleShape},
    device::KerasDevice,
    distribution::Distribution,
    losses::{compute_loss, mask_weights, DeviceLoss, Loss, LossScratch, Reduction, SampleWeight},
    metrics::{Direction, MeanState, MetricSet, ResidentMeans},
    model,
    optimizers::Optimizer,
    state::{FlatParams, Phase, StepProfile},
    target::Target,
    Error, Result,
};

/// A model compiled with an optimizer, a loss and metrics: Keras's `model.compile(...)`.
///
/// Generic over the model `M`, optimizer `O`, loss `L`, metrics `Mt` (a tuple, `()` for none),
/// weighted metrics `Wm` (a tuple; they receive sample and class weights) and device `D`. Every
/// training step is monomorphized: no `dyn`, no boxing.
///
/// `fit`, `evaluate` and `predict` work on batches of samples of a compile-time shape; the model's
/// output width `K` is checked against the loss and labels at build time.
pub struct Trainer<M, O, L, Mt, Wm = (), D: KerasDevice = Cpu> {
    pub(crate) model: M,
    pub(crate) optimizer: O,
    pub(crate) loss: L,
    pub(crate) metrics: Mt,
    pub(crate) weighted_metrics: Wm,
    pub(crate) device: D,
    pub(crate) params: FlatParams,
    pub(crate) grads: Option<Gradients<f32, D>>,
    pub(crate) loss_scratch: LossScratch,
    pub(crate) y_host: Vec<f32>,
    pub(crate) grad_host: Vec<f32>,
    /// The labels of a batch as the loss's device form takes them.
    pub(crate) label_host: Vec<f32>,
    /// The per-row weights of a loss on the device that masks rows (the mask times the sample
    /// weights), reused from step to step.
    pub(crate) weight_host: Vec<f32>,
    /// Whether training steps compute the loss on the device where the loss can.
    pub(crate) loss_on_device: bool,
    /// Whether training steps keep the loss tracker and the row-form metrics on the device.
    pub(crate) metrics_on_device: bool,
    /// Their device copy, while training steps run with `metrics_on_device`.
    pub(crate) resident_means: ResidentMeans<D>,
    /// What the optimizer step keeps between steps (the optimizer's slots on the device).
    pub(crate) step_buffers: model::StepBuffers<D>,
    pub(crate) loss_tracker: MeanState,
    pub(crate) stop_training: bool,
    pub(crate) directions: Vec<(String, Direction)>,
    /// The bound on the device's allocation cache.
    pub(crate) cache_budget: CacheBudget,
    /// Steps skipped for non-finite gradients since the trainer was compiled.
    pub(crate) skipped_steps: u64,
    /// Whether this process's callbacks write: `false` on the other processes of a
    /// data-parallel `fit` while it runs.
    pub(crate) chief: bool,
    /// The host memory each step's uploads (batch, labels, weights) go through, so that they
    /// do not wait for the step before on the device.
    pub(crate) staging: D::Staging,
    /// The marks of a step profile, when one was asked for ([`Trainer::set_step_profile`]).
    pub(crate) profiler: Option<StepProfiler<D>>,
    /// Empties the device's cache once every tensor above has been dropped (keep it last).
    pub(crate) empty_cache_on_drop: EmptyCacheOnDrop<D>,
}

impl<M, O, L, Mt, D> Trainer<M, O, L, Mt, (), D>
where
    M: dfdx::nn::tensor_collection::TensorCollection<f32, D>,
    D: KerasDevice,
    O: Optimizer,
{
    /// Compiles `model` (built on `device`) with an optimizer, a loss and a tuple of metrics.
    ///
    /// Turns on `device`'s allocation cache (dfdx's [`Cache`](dfdx::tensor::Cache), shared by
    /// every clone of the device): each step's activations and gradients then reuse the buffers
    /// the step before freed, instead of asking the system for fresh pages (on the benchmark's
    /// wide workload, 10 MB of page faults a step without it). [`fit`](Self::fit) empties the
    /// cache when it returns; the cache stays on. While the steps run, the cache is bounded:
    /// see [`set_cache_limit`](Self::set_cache_limit). Dropping the trainer empties the cache
    /// once its tensors are freed (dfdx would otherwise keep them allocated even after the
    /// device is gone).
    ///
    /// # Examples
    /// See the crate-level example.
    pub fn compile(model: M, optimizer: O, loss: L, metrics: Mt, device: &D) -> Result<Self> {
        let params = model::layout(&model)?;
        device.try_enable_cache().map_err(Error::device)?;
        Ok(Self {
            model,
            optimizer,
            loss,
            metrics,
            weighted_metrics: (),
            device: device.clone(),
            params,
            grads: None,
            loss_scratch: LossScratch::default(),
            y_host: Vec::new(),
            grad_host: Vec::new(),
            label_host: Vec::new(),
            weight_host: Vec::new(),
            loss_on_device: !D::HOST_MEMORY,
            metrics_on_device: !D::HOST_MEMORY,
            resident_means: ResidentMeans::default(),
            step_buffers: model::StepBuffers::new(device.clone()),
            loss_tracker: MeanState::default(),
            stop_training: false,
            directions: Vec::new(),
            cache_budget: CacheBudget::default(),
            skipped_steps: 0,
            chief: true,
            staging: device.try_staging().map_err(Error::device)?,
            profiler: None,
            empty_cache_on_drop: EmptyCacheOnDrop(device.clone()),
        })
    }
}

impl<M, O, L, Mt, Wm, D: KerasDevice> Trainer<M, O, L, Mt, Wm, D> {
    /// Adds weighted metrics (Keras's `weighted_metrics`): they receive `sample_weight` and
    /// `class_weight`, unlike `metrics`.
    pub fn with_weighted_metrics<Wm2>(self, weighted_metrics: Wm2) -> Trainer<M, O, L, Mt, Wm2, D> {
        Trainer {
            model: self.model,
            optimizer: self.optimizer,
            loss: self.loss,
            metrics: self.metrics,
            weighted_metrics,
            device: self.device,
            params: self.params,
            grads: self.grads,
            loss_scratch: self.loss_scratch,
            y_host: self.y_host,
            grad_host: self.grad_host,
            label_host: self.label_host,
            weight_host: self.weight_host,
            loss_on_device: self.loss_on_device,
            metrics_on_device: self.metrics_on_device,
            resident_means: ResidentMeans::default(),
            step_buffers: self.step_buffers,
            loss_tracker: self.loss_tracker,
            stop_training: self.stop_training,
            directions: self.directions,
            cache_budget: self.cache_budget,
            skipped_steps: self.skipped_steps,
            chief: self.chief,
            staging: self.staging,
            profiler: self.profiler,
            empty_cache_on_drop: self.empty_cache_on_drop,
        }
    }

    /// Bounds the device's allocation cache: when the memory the device has in use (the
    /// process's resident memory on `Cpu`, the GPU's used memory on `Cuda`) has grown by more
    /// than `limit` bytes since the steps were warm, the cache is emptied and its buffers go back
    /// to the system. The project's layers reuse every per-step buffer, so the bound matters
    /// for buffers the cache cannot reuse (a custom layer's `tensor_from_vec` at each step).
    /// `None` turns the bound off. Defaults to [`DEFAULT_CACHE_LIMIT`](super::DEFAULT_CACHE_LIMIT) (256 MiB).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::nn::DeviceBuildExt;
    /// use keras_core::prelude::*;
    ///
    /// let dev = Cpu::seed_from_u64(0);
    /// let mut trainer = Trainer::compile(
    ///     dev.build_module::<Dense<2, 2>, f32>(),
    ///     Sgd::new().build()?,
    ///     losses::MeanSquaredError::default(),
    ///     (),
    ///     &dev,
    /// )?;
    /// trainer.set_cache_limit(Some(64 << 20));
    /// assert_eq!(trainer.cache_limit(), Some(64 << 20));
    /// # Ok::<(), keras_core::Error>(())
    /// ```
    pub fn set_cache_limit(&mut self, limit: Option<usize>) {
        self.cache_budget = CacheBudget::new(limit);
    }

    /// The bound set by [`set_cache_limit`](Self::set_cache_limit).
    pub fn cache_limit(&self) -> Option<usize> {
        self.cache_budget.limit()
    }

    /// How many times the cache was emptied to keep within [`cache_limit`](Self::cache_limit)
    /// since the limit was set.
    pub fn cache_releases(&self) -> usize {
        self.cache_budget.releases()
    }

    /// Whether training steps compute the loss where the model runs, with dfdx's ops on the
    /// tape, for losses that have such a form ([`DeviceLoss`](crate::losses::DeviceLoss): every
    /// Keras loss has one; rows an `ignore_class` masks are weighed out by
    /// [`mask_weights`](crate::losses::mask_weights)): the logits then stay on the device (they
    /// are copied to the host only for compiled metrics without a device form) and only the
    /// loss value is read back. A loss without a device form (a custom [`LossFn`](crate::losses::LossFn))
    /// and a data-parallel run use the host loss.
    ///
    /// Defaults to on for devices whose memory is not the host's (`Cuda`) and off on `Cpu`,
    /// where the host loss is the faster. The two agree to float rounding (the device form
    /// differentiates the loss; the host form has the gradient written out).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::nn::DeviceBuildExt;
    /// use keras_core::prelude::*;
    ///
    /// let dev = Cpu::default();
    /// let mut trainer = Trainer::compile(
    ///     dev.build_module::<Dense<2, 2>, f32>(),
    ///     Sgd::new().build()?,
    ///     losses::MeanSquaredError::default(),
    ///     (),
    ///     &dev,
    /// )?;
    /// assert!(!trainer.loss_on_device());
    /// trainer.set_loss_on_device(true);
    /// assert!(trainer.loss_on_device());
    /// # Ok::<(), keras_core::Error>(())
    /// ```
    pub fn set_loss_on_device(&mut self, on: bool) {
        self.loss_on_device = on;
    }

    /// See [`set_loss_on_device`](Self::set_loss_on_device).
    pub fn loss_on_device(&self) -> bool {
        self.loss_on_device
    }

    /// Whether training and evaluation steps keep the loss tracker and the metrics that have a
    /// row form ([`MetricFn::row_form`](crate::metrics::MetricFn::row_form): every metric that
    /// is Keras's `MeanMetricWrapper`, i.e. the accuracies and top-k accuracies, the
    /// crossentropies, the mean errors, KL divergence, Poisson, cosine similarity, the hinges and
    /// the correlations), a confusion form
    /// ([`MetricFn::confusion_form`](crate::metrics::MetricFn::confusion_form): the condition
    /// counts, `Precision`, `Recall`, `AUC`, the rate-at metrics), a column
    /// form ([`MetricFn::column_form`](crate::metrics::MetricFn::column_form): the F-scores,
    /// `R2Score`) or an IoU form ([`MetricFn::iou_form`](crate::metrics::MetricFn::iou_form):
    /// `IoU`, `MeanIoU`, their one-hot forms, `BinaryIoU`) where the model runs: each batch adds
    /// to their states on the device ([`KerasDevice::try_mean_update`],
    /// [`KerasDevice::try_confusion_update`], [`KerasDevice::try_column_update`],
    /// [`KerasDevice::try_iou_update`]), and the host reads them only when a log needs them
    /// (a predicted class id out of an IoU metric's range is the typed error of that read):
    /// after every batch when a callback reads batch
    /// logs ([`Callback::reads_batch_logs`](crate::callbacks::Callback::reads_batch_logs), e.g.
    /// a live progress bar), else once per epoch (per evaluation), as Keras's JAX trainer does.
    /// Evaluation then computes the loss on the device too where
    /// [`loss_on_device`](Self::loss_on_device) allows. Other metrics read the model's output
    /// on the host, as before.
    ///
    /// Defaults to on for devices whose memory is not the host's (`Cuda`) and off on `Cpu`.
    /// The values agree with the host metrics to float rounding (on `Cpu`, exactly: the kernel
    /// sums in the host's order).
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::nn::DeviceBuildExt;
    /// use keras_core::prelude::*;
    ///
    /// let dev = Cpu::default();
    /// let mut trainer = Trainer::compile(
    ///     dev.build_module::<Dense<2, 2>, f32>(),
    ///     Sgd::new().build()?,
    ///     losses::MeanSquaredError::default(),
    ///     (metrics::MeanAbsoluteError::default(),),
    ///     &dev,
    /// )?;
    /// assert!(!trainer.metrics_on_device());
    /// trainer.set_metrics_on_device(true);
    /// assert!(trainer.metrics_on_device());
    /// # Ok::<(), keras_core::Error>(())
    /// ```
    pub fn set_metrics_on_device(&mut self, on: bool) {
        self.metrics_on_device = on;
    }

    /// See [`set_metrics_on_device`](Self::set_metrics_on_device).
    pub fn metrics_on_device(&self) -> bool {
        self.metrics_on_device
    }

    /// Profiles training steps: the next `skip` steps run as usual (a warm-up), then the
    /// following `steps` record, at the end of each phase ([`Phase`]: the batch's upload, the
    /// forward pass, the device metrics, the loss, the backward pass, the optimizer's update,
    /// the host tracker), the host's clock and a mark on the device's timeline (a CUDA event on
    /// `Cuda`). [`step_profile`](Self::step_profile) then says where the time went, on the host
    /// (how long it took to run or queue each phase) and on the device. Marks cost a little;
    /// unprofiled steps are untouched. Replaces a profile not yet taken.
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::nn::DeviceBuildExt;
    /// use keras_core::prelude::*;
    /// use keras_core::state::Phase;
    ///
    /// let dev = Cpu::default();
    /// let mut trainer = Trainer::compile(
    ///     dev.build_module::<Dense<2, 3>, f32>(),
    ///     Sgd::new().build()?,
    ///     losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
    ///     (),
    ///     &dev,
    /// )?;
    /// let data = ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.5; 40], vec![1.0; 20])?;
    /// trainer.set_step_profile(1, 3)?;
    /// trainer.fit(&data).batch_size(4).epochs(2).verbose(0).run()?;
    /// let profile = trainer.step_profile()?;
    /// assert_eq!(profile.steps, 3);
    /// assert!(profile.phase(Phase::Forward).is_some());
    /// # Ok::<(), keras_core::Error>(())
    /// ```
    pub fn set_step_profile(&mut self, skip: usize, steps: usize) -> Result<()> {
        self.profiler = Some(StepProfiler::new(&self.device, skip, steps)?);
        Ok(())
    }

    /// The profile of the steps [`set_step_profile`](Self::set_step_profile) asked for, as far
    /// as they ran (waiting for the device to finish them); an empty profile without one.
    /// Profiling then stops.
    pub fn step_profile(&mut self) -> Result<StepProfile> {
        match self.profiler.take() {
            Some(mut profiler) => profiler.take(&self.device),
            None => Ok(StepProfile::default()),
        }
    }

    /// Training steps that left the model as it was because a gradient was NaN or infinite
    /// (see `fit`'s [`skip_non_finite`](super::Fit::skip_non_finite)), since the trainer was
    /// compiled.
    pub fn skipped_steps(&self) -> u64 {
        self.skipped_steps
    }

    /// The model.
    pub fn model(&self) -> &M {
        &self.model
    }

    /// The model, mutably. Call [`Trainer::sync_weights`] after changing its parameters by hand.
    pub fn model_mut(&mut self) -> &mut M {
        &mut self.model
    }

    /// Gives the model back.
    pub fn into_model(self) -> M {
        self.model
    }

    /// The optimizer.
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }

    /// The optimizer, mutably.
    pub fn optimizer_mut(&mut self) -> &mut O {
        &mut self.optimizer
    }

    /// The loss.
    pub fn loss(&self) -> &L {
        &self.loss
    }

    /// The metrics.
    pub fn metrics(&self) -> &Mt {
        &self.metrics
    }

    /// The device.
    pub fn device(&self) -> &D {
        &self.device
    }

    /// The trainable weights as flat host buffers (names are field paths).
    pub fn weights(&self) -> &FlatParams {
        &self.params
    }

    /// Replaces the trainable weights (same layout as [`Trainer::weights`]).
    pub fn set_weights(&mut self, values: &[f32]) -> Result<()>
    where
        M: dfdx::nn::tensor_collection::TensorCollection<f32, D>,
    {
        if values.len() != self.params.values.len() {
            return Err(Error::ShapeMismatch {
                name: "weights",
                expected: format!("{} values", self.params.values.len()),
                got: format!("{} values", values.len()),
            });
        }
        self.params.values.copy_from_slice(values);
        self.step_buffers.values_stale = false;
        model::scatter_values(&mut self.model, &self.params)
    }

    /// Re-reads the weights from the model after it was changed through [`Trainer::model_mut`].
    pub fn sync_weights(&mut self) -> Result<()>
    where
        M: dfdx::nn::tensor_collection::TensorCollection<f32, D>,
    {
        model::gather_values(&self.model, &mut self.params)?;
        self.step_buffers.values_stale = false;
        Ok(())
    }

    /// Brings the flat weights and the optimizer's own state up to date after steps that ran
    /// resident on the device ([`model::optimizer_step`]). `fit` and `train_on_batch` call it
    /// before they return, and callbacks' reads of weights and optimizer state go through it.
    pub(crate) fn sync_host(&mut self) -> Result<()>
    where
        M: dfdx::nn::tensor_collection::TensorCollection<f32, D>,
        O: Optimizer,
    {
        model::sync_host(
            &self.model,
            &mut self.optimizer,
            &mut self.params,
            &mut self.step_buffers,
        )
    }

    /// Resets the loss tracker and every metric (Keras's `reset_metrics`).
    pub fn reset_metrics<const K: usize, T: Target>(&mut self)
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        self.resident_means.stop();
        self.loss_tracker.reset();
        self.metrics.reset_all();
        self.weighted_metrics.reset_all();
    }

    /// Brings the loss tracker and the metrics up to date with their device copy (one read from
    /// the device), when training steps keep them there; it stays there.
    pub(crate) fn read_metrics<const K: usize, T: Target>(&mut self) -> Result<()>
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        self.resident_means.read_into::<K, T, _, _>(
            &self.device,
            &mut self.loss_tracker,
            &mut self.metrics,
            &mut self.weighted_metrics,
        )
    }

    /// [`read_metrics`](Self::read_metrics), then the host states are the current ones again
    /// (at the end of `fit` and `train_on_batch`, also after an error).
    pub(crate) fn settle_metrics<const K: usize, T: Target>(&mut self) -> Result<()>
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let read = self.read_metrics::<K, T>();
        self.resident_means.stop();
        read
    }

    /// Records each compiled metric's direction, for `mode = auto` monitors.
    pub(crate) fn record_directions<const K: usize, T: Target>(&mut self)
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let mut dirs = vec![("loss".to_string(), Direction::Down)];
        let mut push = |name: &str, d: Direction| dirs.push((name.to_string(), d));
        self.metrics.visit_directions(&mut push);
        self.weighted_metrics.visit_directions(&mut push);
        self.directions = dirs;
    }

    /// Writes `loss` and each metric's result into `logs` (Keras's `get_metrics_result`).
    pub(crate) fn write_logs<const K: usize, T: Target>(
        &self,
        logs: &mut crate::state::Logs,
        prefix: &str,
    ) where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let mut set = |name: &str, v: f32| {
            if prefix.is_empty() {
                logs.set(name, v);
            } else {
                logs.set(&format!("{prefix}{name}"), v);
            }
        };
        set("loss", self.loss_tracker.result());
        self.metrics.visit_results(&mut set);
        self.weighted_metrics.visit_results(&mut set);
    }
}

impl<M, O, L, Mt, Wm, D: KerasDevice> Trainer<M, O, L, Mt, Wm, D> {
    /// One optimizer step on one batch, in a single process: see
    /// [`train_batch_across`](Self::train_batch_across).
    pub(crate) fn train_batch<S: SampleShape, const K: usize, T: Target>(
        &mut self,
        batch: &Batch,
        skip_non_finite: bool,
        step_key: u64,
    ) -> Result<()>
    where
        M: TrainModel<S, K, D>,
        O: Optimizer,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        self.train_batch_across::<S, K, T, _>(
            batch,
            skip_non_finite,
            step_key,
            &crate::distribution::SingleProcess,
        )
    }

    /// One optimizer step on one batch: forward (training), loss, backward, update, metrics.
    /// `step_key` seeds the step's dropout masks ([`dropout_seeds`](crate::layers::dropout_seeds)).
    /// With `skip_non_finite` (or an optimizer with a loss scale), a step whose gradients are not
    /// all finite leaves the model and the optimizer as they were. With
    /// [`metrics_on_device`](Self::metrics_on_device) the loss tracker and the row-form metrics
    /// are updated on the device and nothing is read back (see
    /// [`read_metrics`](Self::read_metrics)).
    ///
    /// In a data-parallel `fit` the batch is this process's shard ([`Batch::shard`]): its loss
    /// is divided by the global batch's divisor and the gradients are summed over `dist`'s
    /// processes before the update, so every process applies the global batch's gradient.
    pub(crate) fn train_batch_across<
        S: SampleShape,
        const K: usize,
        T: Target,
        Dist: Distribution,
    >(
        &mut self,
        batch: &Batch,
        skip_non_finite: bool,
        step_key: u64,
        dist: &Dist,
    ) -> Result<()>
    where
        M: TrainModel<S, K, D>,
        O: Optimizer,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        if let Some(profiler) = self.profiler.as_mut() {
            profiler.begin_step(&self.device)?;
        }
        let n = batch.size;
        if n == 0 && batch.shard.is_some() {
            // An empty shard (a last batch smaller than the number of processes): no loss,
            // zero gradients, but this process still takes part in the sum and the update.
            let mut grads = match self.grads.take() {
                Some(g) => g,
                None => self
                    .model
                    .try_alloc_grads()
                    .map_err(Error::on_device::<D>("the gradients"))?,
            };
            self.reduce_and_apply(&mut grads, skip_non_finite, dist)?;
            self.grads = Some(grads);
            return Ok(());
        }
        // From dfdx's allocator (not a moved `Vec`), so its cache, when enabled, stays balanced.
        let x: Tensor<S::Batched, f32, D> = self
            .device
            .try_upload_tensor(&mut self.staging, &batch.x, S::batched(n))
            .map_err(Error::on_device::<D>("the batch"))?;
        self.mark(Phase::Upload)?;
        let mut grads = match self.grads.take() {
            Some(g) => g,
            None => self
                .model
                .try_alloc_grads()
                .map_err(Error::on_device::<D>("the gradients"))?,
        };
        // The batch is data: the fused ops skip the gradient with respect to it.
        crate::kernels::mark_data_input(&mut grads, &x);
        let x = x.traced(grads);
        // Dropout masks are seeded by the step's place in training (`step_key`).
        let seeds = crate::layers::dropout_seeds::for_step(step_key);
        // Token ids an Embedding refuses are recorded during the forward pass; a stale record
        // from a forward outside the trainer is cleared first.
        let _ = crate::layers::take_bad_id();
        // A layer that reads the batch on the host (an Embedding checking its ids) reads the
        // values it was uploaded from.
        let model = &mut self.model;
        let out: Tensor<(usize, Const<K>), f32, D, OwnedTape<f32, D>> =
            crate::kernels::with_host_copy(x.id(), &batch.x, || model.try_forward_mut(x))
                .map_err(Error::on_device::<D>("the forward pass"))
                .map(OutputShape::into_output)?;
        drop(seeds);
        crate::layers::take_bad_id()?;
        self.mark(Phase::Forward)?;
        if self.metrics_on_device {
            self.start_resident_means::<K, T>()?;
            self.resident_metrics_update::<K, _>(&out, batch)?;
        }
        self.mark(Phase::Metrics)?;
        // The loss gradient carries the loss scale and, for a shard, its share of the global
        // batch's divisor.
        let scale = self.optimizer.loss_scale() * self.loss_share::<K>(batch);
        let form = if self.loss_on_device {
            self.loss
                .device_form(&batch.y, n, K, &mut self.label_host)?
        } else {
            None
        };
        let (value, mut grads) = match form {
            Some(form) => self.device_loss_backward::<K, T>(form, out, batch, scale)?,
            None => self.host_loss_backward::<K, T>(out, batch, scale)?,
        };
        self.reduce_and_apply(&mut grads, skip_non_finite, dist)?;
        self.grads = Some(grads);
        self.mark(Phase::Optimizer)?;
        if self.resident_means.is_live() {
            self.resident_step_end::<K, T>(value, batch)?;
        } else {
            // The loss computed on the device is read here, after the step's kernels are queued.
            let value = match value {
                LossValue::Host(v) => v,
                LossValue::Device(t) => {
                    let mut v = [0.0f32];
                    t.copy_into(&mut v);
                    v[0]
                }
            };
            self.update_metrics::<K, T>(batch, value)?;
        }
        self.mark(Phase::Tracker)?;
        self.cache_budget.after_step(&self.device)
    }

    /// Ends `phase` of a profiled step (see [`set_step_profile`](Self::set_step_profile)).
    fn mark(&mut self, phase: Phase) -> Result<()> {
        match self.profiler.as_mut() {
            Some(profiler) => profiler.mark(&self.device, phase),
            None => Ok(()),
        }
    }

    /// Sums the gradients over `dist`'s processes (nothing for one process), then takes the
    /// optimizer step. Leaves the gradients zeroed for the next step; in place on `Cpu` for
    /// optimizers that allow it (one pass over each variable instead of gather, apply,
    /// scatter).
    fn reduce_and_apply<Dist: Distribution>(
        &mut self,
        grads: &mut Gradients<f32, D>,
        skip_non_finite: bool,
        dist: &Dist,
    ) -> Result<()>
    where
        M: dfdx::nn::tensor_collection::TensorCollection<f32, D>,
        O: Optimizer,
    {
        model::all_reduce_grads(&mut self.model, grads, &self.params, &self.device, dist)?;
        if skip_non_finite || self.optimizer.loss_scale() != 1.0 {
            let applied = model::optimizer_step_if_finite(
                &mut self.model,
                grads,
                &mut self.optimizer,
                &mut self.params,
                &mut self.step_buffers,
            )?;
            self.skipped_steps += u64::from(!applied);
            Ok(())
        } else {
            model::optimizer_step(
                &mut self.model,
                grads,
                &mut self.optimizer,
                &mut self.params,
                &mut self.step_buffers,
            )
        }
    }

    /// Makes the device copy of the running states current, from the host states, unless it
    /// already is.
    fn start_resident_means<const K: usize, T: Target>(&mut self) -> Result<()>
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        if self.resident_means.is_live() {
            return Ok(());
        }
        self.metrics.prepare_all(K)?;
        self.weighted_metrics.prepare_all(K)?;
        self.resident_means.start::<K, T, _, _>(
            &self.device,
            &self.loss_tracker,
            &self.metrics,
            &self.weighted_metrics,
        )
    }

    /// Adds the batch's model output `out` to the row-form metrics' device states. An output
    /// that is not a row-major buffer (a view) goes through a row-major copy.
    fn resident_metrics_update<const K: usize, Tp>(
        &mut self,
        out: &Tensor<(usize, Const<K>), f32, D, Tp>,
        batch: &Batch,
    ) -> Result<()> {
        let n = batch.size;
        let copy;
        let y_pred = if out.is_row_major() {
            out.storage()
        } else {
            self.y_host.resize(n * K, 0.0);
            out.copy_into(&mut self.y_host);
            copy = self
                .device
                .try_upload(&self.y_host)
                .map_err(Error::on_device::<D>("the model output"))?;
            &copy
        };
        self.resident_means.add_batch(
            &self.device,
            &mut self.staging,
            y_pred,
            n,
            K,
            &batch.y,
            batch.weights(),
        )
    }

    /// Whether this step's metrics read the model's output on the host.
    fn metrics_read_host_outputs<const K: usize, T: Target>(&self) -> bool
    where
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        if !self.resident_means.is_live() {
            return !self.metrics.is_empty() || !self.weighted_metrics.is_empty();
        }
        self.metrics.any_host_member() || self.weighted_metrics.any_host_member()
    }

    /// The batch's loss from the model outputs in `self.y_host` ([`compute_loss`], with the
    /// batch's sample weights), and its gradient in `self.loss_scratch` when `want_grad`.
    fn host_loss<const K: usize>(&mut self, batch: &Batch, want_grad: bool) -> Result<f32>
    where
        L: Loss<K>,
    {
        let shape = [batch.size, K];
        let weights = batch.weights().map(|w| SampleWeight {
            values: w,
            shape: std::slice::from_ref(&shape[0]),
        });
        let out = compute_loss(
            &self.loss,
            &batch.y,
            &self.y_host,
            &shape,
            weights,
            want_grad,
            &mut self.loss_scratch,
        )?;
        Ok(out.value)
    }

    /// Updates the compiled metrics with the model outputs in `self.y_host` (the weighted ones
    /// with the batch's sample weights) and the loss tracker with the batch's `loss`.
    fn update_metrics<const K: usize, T: Target>(&mut self, batch: &Batch, loss: f32) -> Result<()>
    where
        L: Loss<K>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        self.metrics.update_all(&batch.y, &self.y_host, None)?;
        self.weighted_metrics
            .update_all(&batch.y, &self.y_host, batch.weights())?;
        match batch.shard {
            // This process's part of the global batch's `loss * global_size`; the parts are
            // summed when logs are written.
            Some(shard) => {
                self.loss_tracker.total +=
                    loss * self.loss_share::<K>(batch) * shard.global_size as f32;
                self.loss_tracker.count += batch.size as f32;
            }
            None => self
                .loss_tracker
                .update(std::iter::once(loss), Some(&[batch.size as f32])),
        }
        Ok(())
    }

    /// The host loss: copies the logits to the host, computes the loss and its gradient there
    /// ([`compute_loss`]) and backpropagates `sum(logits * gradient * scale)`.
    fn host_loss_backward<const K: usize, T: Target>(
        &mut self,
        out: Tensor<(usize, Const<K>), f32, D, OwnedTape<f32, D>>,
        batch: &Batch,
        scale: f32,
    ) -> Result<(LossValue<D>, Gradients<f32, D>)>
    where
        L: Loss<K, Target = T>,
    {
        let n = batch.size;
        self.y_host.resize(n * K, 0.0);
        out.copy_into(&mut self.y_host);
        let value = self.host_loss::<K>(batch, true)?;
        self.grad_host.clear();
        self.grad_host
            .extend(self.loss_scratch.grad().iter().map(|g| g * scale));
        let mut g: Tensor<(usize, Const<K>), f32, D> = self
            .device
            .try_zeros_like(&(n, Const::<K>))
            .map_err(Error::on_device::<D>("the loss gradient"))?;
        g.copy_from(&self.grad_host);
        let surrogate = out
            .try_mul(g)
            .map_err(Error::on_device::<D>("the loss"))?
            .try_sum::<(), _>()
            .map_err(Error::on_device::<D>("the loss"))?;
        self.mark(Phase::Loss)?;
        let grads = surrogate
            .try_backward()
            .map_err(Error::on_device::<D>("the backward pass"))?;
        self.mark(Phase::Backward)?;
        Ok((LossValue::Host(value), grads))
    }

    /// The loss on the device ([`DeviceLoss`]): the rows of `form` against the labels in
    /// `self.label_host`, weighted and reduced as [`compute_loss`] does, then backpropagated
    /// (times `scale`). The logits come to the host only when metrics need them.
    fn device_loss_backward<const K: usize, T: Target>(
        &mut self,
        form: DeviceLoss,
        out: Tensor<(usize, Const<K>), f32, D, OwnedTape<f32, D>>,
        batch: &Batch,
        scale: f32,
    ) -> Result<(LossValue<D>, Gradients<f32, D>)>
    where
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let n = batch.size;
        if self.metrics_read_host_outputs::<K, T>() {
            self.y_host.resize(n * K, 0.0);
            out.copy_into(&mut self.y_host);
        }
        let loss = self.device_loss_value::<K, _>(form, out, batch)?;
        let value = loss.retaped::<NoneTape>();
        let loss = if scale == 1.0 {
            loss
        } else {
            loss.try_mul(scale)
                .map_err(Error::on_device::<D>("the loss"))?
        };
        self.mark(Phase::Loss)?;
        let grads = loss
            .try_backward()
            .map_err(Error::on_device::<D>("the backward pass"))?;
        self.mark(Phase::Backward)?;
        Ok((LossValue::Device(value), grads))
    }

    /// Forward (inference) on one batch into `self.y_host`.
    pub(crate) fn forward_batch<S: SampleShape, const K: usize>(
        &mut self,
        x_host: &[f32],
        n: usize,
    ) -> Result<()>
    where
        M: InferenceModel<S, K, D>,
    {
        let out = self.forward_on_device::<S, K>(x_host, n)?;
        self.y_host.resize(n * K, 0.0);
        out.copy_into(&mut self.y_host);
        drop(out);
        self.cache_budget.after_step(&self.device)
    }

    /// Forward (inference) on one batch; the output stays on the device.
    fn forward_on_device<S: SampleShape, const K: usize>(
        &mut self,
        x_host: &[f32],
        n: usize,
    ) -> Result<Tensor<(usize, Const<K>), f32, D>>
    where
        M: InferenceModel<S, K, D>,
    {
        // From dfdx's allocator (not a moved `Vec`), so its cache, when enabled, stays balanced.
        let x: Tensor<S::Batched, f32, D> = self
            .device
            .try_upload_tensor(&mut self.staging, x_host, S::batched(n))
            .map_err(Error::on_device::<D>("the batch"))?;
        let _ = crate::layers::take_bad_id();
        // A layer that reads the batch on the host (an Embedding checking its ids) reads the
        // values it was uploaded from.
        let model = &self.model;
        let out = crate::kernels::with_host_copy(x.id(), x_host, || model.try_forward(x))
            .map_err(Error::on_device::<D>("the forward pass"))
            .map(OutputShape::into_output)?;
        crate::layers::take_bad_id()?;
        Ok(out)
    }

    /// Loss and metrics on one batch, without updating the model (Keras's `test_step`). With
    /// [`metrics_on_device`](Self::metrics_on_device) the loss tracker and the row-form metrics
    /// are updated on the device (the loss too, where it has a device form and
    /// [`loss_on_device`](Self::loss_on_device) is on) and nothing is read back.
    pub(crate) fn test_batch<S: SampleShape, const K: usize, T: Target>(
        &mut self,
        batch: &Batch,
    ) -> Result<()>
    where
        M: InferenceModel<S, K, D>,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        if batch.size == 0 && batch.shard.is_some() {
            // An empty shard of a data-parallel evaluation adds nothing.
            return Ok(());
        }
        if !self.metrics_on_device {
            self.forward_batch::<S, K>(&batch.x, batch.size)?;
            let value = self.host_loss::<K>(batch, false)?;
            return self.update_metrics::<K, T>(batch, value);
        }
        self.start_resident_means::<K, T>()?;
        let n = batch.size;
        let out = self.forward_on_device::<S, K>(&batch.x, n)?;
        self.resident_metrics_update::<K, _>(&out, batch)?;
        // A loss without reduction is evaluated as the host does.
        let form = if self.loss_on_device && self.loss.reduction() != Reduction::None {
            self.loss
                .device_form(&batch.y, n, K, &mut self.label_host)?
        } else {
            None
        };
        let host_outputs = form.is_none() || self.metrics_read_host_outputs::<K, T>();
        if host_outputs {
            self.y_host.resize(n * K, 0.0);
            out.copy_into(&mut self.y_host);
        }
        let loss = match form {
            Some(form) => LossValue::Device(self.device_loss_value::<K, _>(form, out, batch)?),
            None => {
                drop(out);
                LossValue::Host(self.host_loss::<K>(batch, false)?)
            }
        };
        self.resident_step_end::<K, T>(loss, batch)?;
        self.cache_budget.after_step(&self.device)
    }

    /// The end of a step whose running states are on the device: the batch's loss goes to the
    /// loss tracker there (a host value is uploaded first), and the metrics without a row form
    /// take the model outputs in `self.y_host`.
    fn resident_step_end<const K: usize, T: Target>(
        &mut self,
        loss: LossValue<D>,
        batch: &Batch,
    ) -> Result<()>
    where
        L: Loss<K>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let loss = match loss {
            LossValue::Device(t) => t,
            LossValue::Host(v) => {
                let mut t: Tensor<(), f32, D> = self
                    .device
                    .try_zeros()
                    .map_err(Error::on_device::<D>("the loss"))?;
                t.copy_from(&[v]);
                t
            }
        };
        // A shard adds its part of the global batch's `loss * global_size`, counted as its own
        // rows, as `update_metrics` does; the parts are summed when logs are written.
        let part = match batch.shard {
            Some(shard) if batch.size > 0 => {
                self.loss_share::<K>(batch) * shard.global_size as f32 / batch.size as f32
            }
            _ => 1.0,
        };
        let loss = if part == 1.0 {
            loss
        } else {
            loss.try_mul(part)
                .map_err(Error::on_device::<D>("the loss"))?
        };
        self.resident_means
            .add_loss(&self.device, loss.storage(), batch.size)?;
        drop(loss);
        self.metrics
            .update_host_members(&batch.y, &self.y_host, None)?;
        self.weighted_metrics
            .update_host_members(&batch.y, &self.y_host, batch.weights())
    }

    /// The loss of `out` (on its tape, if any) in its device form, against the labels in
    /// `self.label_host`, weighted and reduced as [`compute_loss`] does.
    fn device_loss_value<const K: usize, Tp>(
        &mut self,
        form: DeviceLoss,
        out: Tensor<(usize, Const<K>), f32, D, Tp>,
        batch: &Batch,
    ) -> Result<Tensor<(), f32, D, Tp>>
    where
        L: Loss<K>,
        Tp: Tape<f32, D> + Merge<NoneTape>,
    {
        let n = batch.size;
        let reduction = self.loss.reduction();
        if reduction == Reduction::None {
            return Err(Error::invalid(
                "reduction",
                "training needs a scalar loss; use sum_over_batch_size, sum, mean or mean_with_sample_weight",
            ));
        }
        let labels: Tensor<(usize, Const<K>), f32, D> = self
            .device
            .try_upload_tensor(&mut self.staging, &self.label_host, (n, Const::<K>))
            .map_err(Error::on_device::<D>("the labels"))?;
        // A loss that masks rows (`ignore_class`) weighs them as `compute_loss` does.
        let weights = match mask_weights(&self.loss, &batch.y, n, &mut self.weight_host) {
            true => {
                if let Some(w) = batch.weights() {
                    self.weight_host
                        .iter_mut()
                        .zip(w)
                        .for_each(|(m, w)| *m *= w);
                }
                Some(&self.weight_host[..])
            }
            false => batch.weights(),
        };
        let divisor = DeviceLoss::divisor(reduction, weights, n);
        let weights = match weights {
            Some(w) => Some(
                self.device
                    .try_upload_tensor(&mut self.staging, w, (n,))
                    .map_err(Error::on_device::<D>("the sample weights"))?,
            ),
            None => None,
        };
        form.loss(out, labels, weights, divisor)
            .map_err(Error::on_device::<D>("the loss"))
    }
}

/// A training step's loss value: computed on the host, or a scalar on the device read once the
/// step's kernels are queued.
pub(crate) enum LossValue<D: KerasDevice> {
    Host(f32),
    Device(Tensor<(), f32, D>),
}
