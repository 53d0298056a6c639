//! `fit`: the training loop. It exists once, here; everything else hooks in as a callback.

use super::{
    bounds::{LabelsFor, TrainModel},
    config::{FitConfig, ValidationFreq},
    context::ctx,
    distributed::{broadcast_from_chief, check_same_run},
    evaluate::evaluate_loop,
    fit_view::fit_progress,
    DataSignature, ResumePoint, Trainer,
};
use crate::layers::dropout_seeds::step_key;
use crate::{
    callbacks::{Callback, ProgbarLogger, RunParams},
    data::{
        BatchOptions, DataAdapter, DataPosition, DatasetInput, EpochIterator, FitData,
        NoValidation, Prefetch, SampleShape, Sharded, Shuffle, Source, Subset,
    },
    device::KerasDevice,
    distribution::{any_process, check_agree, SingleProcess},
    losses::Loss,
    metrics::{MergeAcross, MetricSet, ResidentMeans},
    optimizers::Optimizer,
    state::{History, Logs},
    target::Target,
    Error, Result,
};

/// The `fit` call being configured: Keras's arguments as chained setters, then [`Fit::run`].
///
/// Created by [`Trainer::fit`]. `Dist` is the [`distribution`](crate::distribution)
/// ([`SingleProcess`] unless [`Fit::distribution`] sets one).
#[must_use = "call .run() to train"]
pub struct Fit<
    't,
    'd,
    M,
    O,
    L,
    Mt,
    Wm,
    D: KerasDevice,
    Ds: ?Sized,
    Vd: ?Sized,
    Cb,
    Dist = SingleProcess,
> {
    trainer: &'t mut Trainer<M, O, L, Mt, Wm, D>,
    data: &'d Ds,
    validation: Option<&'d Vd>,
    config: FitConfig,
    callbacks: Cb,
    dist: Dist,
}

impl<M, O, L, Mt, Wm, D: KerasDevice> Trainer<M, O, L, Mt, Wm, D> {
    /// Starts a `fit` call on `data` (features, labels and optional sample weights). Set
    /// Keras's arguments on the returned [`Fit`], then call [`Fit::run`].
    pub fn fit<'t, 'd, Ds: ?Sized>(
        &'t mut self,
        data: &'d Ds,
    ) -> Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, NoValidation, ()> {
        Fit {
            trainer: self,
            data,
            validation: None,
            config: FitConfig::default(),
            callbacks: (),
            dist: SingleProcess,
        }
    }
}

impl<'t, 'd, M, O, L, Mt, Wm, D: KerasDevice, Ds: ?Sized, Vd: ?Sized, Cb, Dist>
    Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, Vd, Cb, Dist>
{
    /// Final epoch index. Defaults to `1`.
    pub fn epochs(mut self, epochs: usize) -> Self {
        self.config.epochs = epochs;
        self
    }
    /// First epoch index (resume). Defaults to `0`.
    pub fn initial_epoch(mut self, initial_epoch: usize) -> Self {
        self.config.initial_epoch = initial_epoch;
        self
    }
    /// Samples per batch. Defaults to `32`.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.config.batch_size = batch_size;
        self
    }
    /// Sample order each epoch. Defaults to [`Shuffle::Full`].
    pub fn shuffle(mut self, shuffle: Shuffle) -> Self {
        self.config.shuffle = shuffle;
        self
    }
    /// Seed of the shuffles. Defaults to `0`.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = seed;
        self
    }
    /// Fraction of the data (its tail) held out for validation. Defaults to `0.0`.
    pub fn validation_split(mut self, fraction: f64) -> Self {
        self.config.validation_split = fraction;
        self
    }
    /// When to validate. Defaults to every epoch.
    pub fn validation_freq(mut self, freq: ValidationFreq) -> Self {
        self.config.validation_freq = freq;
        self
    }
    /// Validation batch size. Defaults to `batch_size`.
    pub fn validation_batch_size(mut self, batch_size: usize) -> Self {
        self.config.validation_batch_size = Some(batch_size);
        self
    }
    /// Maximum validation steps per validation run. Defaults to a full pass.
    pub fn validation_steps(mut self, steps: usize) -> Self {
        self.config.validation_steps = Some(steps);
        self
    }
    /// Steps per epoch; the data pass continues across epochs. Defaults to a full pass.
    pub fn steps_per_epoch(mut self, steps: usize) -> Self {
        self.config.steps_per_epoch = Some(steps);
        self
    }
    /// Batches per group of batch callbacks. Defaults to `1`.
    pub fn steps_per_execution(mut self, steps: usize) -> Self {
        self.config.steps_per_execution = steps;
        self
    }
    /// Per-class loss weights, indexed by class id. Defaults to none.
    pub fn class_weight(mut self, weights: Vec<f32>) -> Self {
        self.config.class_weight = Some(weights);
        self
    }
    /// 0 silent, 1 progress bar, 2 one line per epoch. Defaults to `1`.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.config.verbose = verbose;
        self
    }
    /// Batches prepared ahead on a background thread; 0 disables it, at most [`MAX_PREFETCH`]
    /// (more is an [`Error::InvalidArgument`]). Batches of fewer than
    /// [`PREFETCH_MIN_BATCH_VALUES`] values are always assembled on the training thread, where
    /// handing them over would cost more than assembling them. Defaults to `2`.
    pub fn prefetch(mut self, depth: usize) -> Self {
        self.config.prefetch = depth;
        self
    }
    /// Whether NaN and infinite features and labels stop `fit` with
    /// [`Error::NonFiniteInput`] naming the sample (checked as each batch is assembled, on the
    /// prefetch thread when there is one). Keras has no such check: with `false`, a NaN trains
    /// as in Keras (the logged loss becomes `nan`, and [`TerminateOnNaN`] can stop the run).
    /// Defaults to `true`.
    ///
    /// [`TerminateOnNaN`]: crate::callbacks::TerminateOnNaN
    pub fn check_finite(mut self, check: bool) -> Self {
        self.config.check_finite = check;
        self
    }
    /// Whether a step whose gradients hold a NaN or an infinity is skipped: the model and the
    /// optimizer stay as they were (as Keras's `LossScaleOptimizer` does), the logged loss still
    /// shows the NaN, and [`Trainer::skipped_steps`] counts it. Always on for an optimizer with
    /// a loss scale. Defaults to `false` (Keras applies the step).
    pub fn skip_non_finite(mut self, skip: bool) -> Self {
        self.config.skip_non_finite = skip;
        self
    }
    /// Replaces every value argument at once.
    pub fn config(mut self, config: FitConfig) -> Self {
        self.config = config;
        self
    }
    /// Validation data (overrides `validation_split`).
    pub fn validation_data<V2: ?Sized>(
        self,
        data: &'d V2,
    ) -> Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, V2, Cb, Dist> {
        Fit {
            trainer: self.trainer,
            data: self.data,
            validation: Some(data),
            config: self.config,
            callbacks: self.callbacks,
            dist: self.dist,
        }
    }
    /// Callbacks: one, or a tuple run in order. Pass `&mut cb` to inspect it afterwards.
    pub fn callbacks<Cb2>(
        self,
        callbacks: Cb2,
    ) -> Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, Vd, Cb2, Dist> {
        Fit {
            trainer: self.trainer,
            data: self.data,
            validation: self.validation,
            config: self.config,
            callbacks,
            dist: self.dist,
        }
    }
    /// Trains over the processes of `dist` (Keras's `keras.distribution`): pass
    /// `&DataParallel::from_env()?` (feature `mpi`) to split each global batch of
    /// `batch_size` samples across the processes of an `mpiexec` job, so that they train the
    /// same model as one process would on the whole batch (see
    /// [`distribution`](crate::distribution)). Every process must build the same model, load
    /// the same data and pass the same arguments; a difference in the model or the data fails
    /// at start with [`Error::DistributionMismatch`]. Defaults to [`SingleProcess`].
    pub fn distribution<Dist2>(
        self,
        dist: Dist2,
    ) -> Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, Vd, Cb, Dist2> {
        Fit {
            trainer: self.trainer,
            data: self.data,
            validation: self.validation,
            config: self.config,
            callbacks: self.callbacks,
            dist,
        }
    }

    /// Trains and returns the [`History`].
    ///
    /// The data is a [`Dataset`](crate::data::Dataset) (batched with `batch_size`, `shuffle` and `class_weight`) or a
    /// [`Generator`](crate::data::Generator) of batches (Keras's generator input: its batches
    /// and order are its own, `steps_per_epoch` bounds an endless one, `validation_split` is
    /// refused). The labels the data must carry are the ones the loss takes (`L::Target`): data
    /// with other labels is a compile error naming both.
    pub fn run<S: SampleShape, const K: usize, Kind, VKind>(self) -> Result<History>
    where
        L: Loss<K>,
        Ds: LabelsFor<L, S, K, Kind>,
        Vd: LabelsFor<L, S, K, VKind>,
        M: TrainModel<S, K, D>,
        O: Optimizer,
        Mt: MetricSet<K, L::Target>,
        Wm: MetricSet<K, L::Target>,
        Cb: Callback,
        Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    {
        self.run_with::<S, K, L::Target, Kind, VKind>()
    }

    fn run_with<S: SampleShape, const K: usize, T: Target, Kind, VKind>(self) -> Result<History>
    where
        Ds: FitData<S, T, Kind>,
        Vd: FitData<S, T, VKind>,
        M: TrainModel<S, K, D>,
        O: Optimizer,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
        Cb: Callback,
        Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    {
        let Fit {
            trainer,
            data,
            validation,
            config,
            callbacks,
            dist,
        } = self;
        validate(&config)?;
        // Several processes: callbacks write on process 0 only. The loss and the metric states
        // stay where the trainer keeps them; a log reads them to the host and the processes
        // combine their partial sums there.
        if dist.num_processes() > 1 {
            trainer.chief = dist.is_chief();
        }
        let device = trainer.device.clone();
        let input = data.input();
        let history = if let Some(v) = validation {
            let val = v.input();
            fit_loop::<S, K, T, _, _, _, _, _, _, _, _, _>(
                &mut *trainer,
                input.whole(),
                Some(val),
                &config,
                callbacks,
                &dist,
            )
        } else if config.validation_split > 0.0 {
            let (train, val) = input.split_tail(config.validation_split)?;
            let val = DatasetInput(val);
            fit_loop::<S, K, T, _, _, _, _, _, _, _, _, _>(
                &mut *trainer,
                train,
                Some(val),
                &config,
                callbacks,
                &dist,
            )
        } else {
            fit_loop::<S, K, T, _, _, _, _, _, _, _, DatasetInput<Subset<'_, S, T, NoValidation>>, _>(
                &mut *trainer,
                input.whole(),
                None,
                &config,
                callbacks,
                &dist,
            )
        };
        // The weights and the optimizer's state read as after the last step, even when `fit`
        // stopped on an error.
        let synced = trainer.sync_host();
        let settled = trainer.settle_metrics::<K, T>();
        trainer.chief = true;
        let history = history?;
        synced?;
        settled?;
        // The buffers the steps reused go back to the system (the cache stays on).
        dfdx::tensor::Cache::try_empty_cache(&device).map_err(Error::device)?;
        Ok(history)
    }
}

/// The largest `prefetch` depth `fit` accepts: each batch ahead is a buffer of `batch_size`
/// samples, and a thread that is this far ahead of the training is no faster than one that is 2
/// ahead. The depth used is also at most the number of batches in a pass.
pub const MAX_PREFETCH: usize = 1024;

/// The smallest batch (in feature values, `batch_size * sample size`) that `fit` assembles on
/// the prefetch thread. Below it, a thread hand-off per batch costs more than the copy it
/// hides (measured on the bench's W2: 16 samples of 4 features ran at half speed).
pub const PREFETCH_MIN_BATCH_VALUES: usize = 4096;

fn validate(config: &FitConfig) -> Result<()> {
    if config.batch_size == 0 {
        return Err(Error::invalid(
            "batch_size",
            "must be at least 1 (Keras's default is 32)",
        ));
    }
    if !(config.validation_split >= 0.0 && config.validation_split < 1.0) {
        return Err(Error::invalid(
            "validation_split",
            format!("must be in [0, 1), got {}", config.validation_split),
        ));
    }
    if config.initial_epoch > config.epochs {
        return Err(Error::invalid(
            "initial_epoch",
            format!(
                "{} is after the final epoch {}",
                config.initial_epoch, config.epochs
            ),
        ));
    }
    if config.validation_batch_size == Some(0) {
        return Err(Error::invalid(
            "validation_batch_size",
            "must be at least 1",
        ));
    }
    if config.validation_steps == Some(0) {
        return Err(Error::invalid("validation_steps", "must be at least 1"));
    }
    if config.steps_per_epoch == Some(0) {
        return Err(Error::invalid(
            "steps_per_epoch",
            "must be at least 1, or None for one full pass",
        ));
    }
    if config.steps_per_execution == 0 {
        return Err(Error::invalid("steps_per_execution", "must be at least 1"));
    }
    if let ValidationFreq::Every(0) = config.validation_freq {
        return Err(Error::invalid("validation_freq", "must be at least 1"));
    }
    if config.prefetch > MAX_PREFETCH {
        return Err(Error::invalid(
            "prefetch",
            format!(
                "{} batches ahead is more than the {MAX_PREFETCH} allowed (2, the default, keeps \
                 the training thread busy)",
                config.prefetch
            ),
        ));
    }
    if config.verbose > 2 {
        return Err(Error::invalid("verbose", "must be 0, 1 or 2"));
    }
    Ok(())
}

/// Everything the epochs share, so that [`run_epochs`] keeps a short argument list.
struct Run<'r, Cb> {
    config: &'r FitConfig,
    callbacks: Cb,
    history: History,
    logs: Logs,
    params: RunParams,
    signature: DataSignature,
    resume: Option<ResumePoint>,
}

#[allow(clippy::too_many_arguments)]
fn fit_loop<S, const K: usize, T, M, O, L, Mt, Wm, D, Tr, Va, Dist>(
    trainer: &mut Trainer<M, O, L, Mt, Wm, D>,
    train: Tr,
    validation: Option<Va>,
    config: &FitConfig,
    callbacks: impl Callback,
    dist: &Dist,
) -> Result<History>
where
    Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    S: SampleShape,
    T: Target,
    D: KerasDevice,
    Tr: Source<S, T>,
    Va: Source<S, T> + Send,
    M: TrainModel<S, K, D>,
    O: Optimizer,
    L: Loss<K, Target = T>,
    Mt: MetricSet<K, T>,
    Wm: MetricSet<K, T>,
{
    let signature = DataSignature {
        samples: train.samples().unwrap_or(0),
        batch_size: config.batch_size,
        shuffle: format!("{:?}", config.shuffle),
        seed: config.seed,
        steps_per_epoch: config.steps_per_epoch,
        steps_per_execution: config.steps_per_execution,
    };
    let mut options = BatchOptions {
        batch_size: config.batch_size,
        shuffle: config.shuffle,
        seed: config.seed,
        class_weight: config.class_weight.clone(),
        check_finite: config.check_finite,
        position: None,
    };
    check_same_run(trainer, &train, validation.as_ref(), config, dist)?;
    let (rank, ranks) = (dist.rank(), dist.num_processes());
    // Built now so that bad data fails before any callback runs; rebuilt at a resume point.
    // Each process keeps its shard of every batch (all of it, alone).
    let mut adapter = Sharded::new(train.batches(&options)?, rank, ranks);
    // Keras adds History always and a ProgbarLogger when verbose != 0, both after the user's
    // callbacks (Keras 3's `CallbackList`), so that they see what those wrote into the logs
    // (`ReduceLROnPlateau`'s `learning_rate`). History is kept out of the tuple so that the
    // context can show it; a resume point saved at an epoch's end adds that epoch's logs.
    let progbar = (config.verbose > 0 && dist.is_chief()).then(ProgbarLogger::new);
    let mut run = Run {
        config,
        callbacks: (callbacks, progbar),
        history: History::default(),
        logs: Logs::new(),
        params: RunParams {
            epochs: config.epochs,
            steps: config.steps_per_epoch.or(adapter.num_batches()),
            verbose: config.verbose,
        },
        signature,
        resume: None,
    };
    trainer.record_directions::<K, T>();
    trainer.stop_training = false;
    let start = DataPosition {
        num_batches: adapter.num_batches(),
        ..DataPosition::default()
    };
    let mut request = None;
    let Run {
        callbacks,
        history,
        logs,
        params,
        signature,
        ..
    } = &mut run;
    history.on_train_begin(&mut ctx!(trainer, logs, *params))?;
    // The callbacks' states as they start, so that a callback restoring a run can check that
    // the saved states are of the same callbacks before it changes anything.
    let states = callbacks.state();
    let view = fit_progress!(
        trainer,
        K,
        T,
        history,
        Some(&mut request),
        config.initial_epoch,
        0,
        start,
        signature,
        None,
        states.as_ref()
    );
    callbacks.on_train_begin(&mut ctx!(trainer, logs, *params, view))?;
    if let Some(point) = request.as_mut() {
        point.signature.check_matches(signature)?;
        if let Some(saved) = point.callbacks.take() {
            // Every callback has started; now each takes its saved state back.
            callbacks.load_state(&saved).map_err(|e| {
                Error::invalid(
                    "resume",
                    format!("a callback's saved state does not fit: {e}"),
                )
            })?;
        }
    }
    if let Some(point) = request {
        let continues = point
            .data
            .continues_pass(point.batch, config.steps_per_epoch);
        options.position = Some((
            point.data.passes,
            continues.then_some(point.data.batches_into_pass),
        ));
        adapter = Sharded::new(train.batches(&options)?, rank, ranks);
        run.history = point.history.clone();
        run.resume = Some(point);
    }
    // Every process starts where process 0 does, from process 0's weights.
    let (epoch, batch) = run
        .resume
        .as_ref()
        .map_or((config.initial_epoch, 0), |p| (p.epoch, p.batch));
    check_agree(
        dist,
        &["the epoch to start at", "the batch to start at"],
        &[epoch as f64, batch as f64],
    )?;
    broadcast_from_chief(trainer, dist)?;
    let batch_values = config
        .batch_size
        .min(train.samples().unwrap_or(config.batch_size))
        .saturating_mul(S::NUMEL);
    if config.prefetch > 0 && batch_values >= PREFETCH_MIN_BATCH_VALUES {
        // More batches ahead than a pass holds would only hold memory.
        let depth = config
            .prefetch
            .min(adapter.num_batches().unwrap_or(MAX_PREFETCH));
        std::thread::scope(|scope| {
            let prefetched = Prefetch::spawn(scope, adapter, depth);
            run_epochs::<S, K, T, _, _, _, _, _, _, _, _, _, _>(
                trainer, prefetched, validation, &mut run, dist,
            )
        })?;
    } else {
        run_epochs::<S, K, T, _, _, _, _, _, _, _, _, _, _>(
            trainer, adapter, validation, &mut run, dist,
        )?;
    }
    Ok(run.history)
}

/// The epochs of `fit`, from `initial_epoch` or from a resume point requested in
/// `on_train_begin` (then the first epoch may continue in its middle).
fn run_epochs<S, const K: usize, T, M, O, L, Mt, Wm, D, A, Va, Cb, Dist>(
    trainer: &mut Trainer<M, O, L, Mt, Wm, D>,
    adapter: A,
    validation: Option<Va>,
    run: &mut Run<'_, Cb>,
    dist: &Dist,
) -> Result<()>
where
    Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    S: SampleShape,
    T: Target,
    D: KerasDevice,
    A: DataAdapter,
    Va: Source<S, T> + Send,
    M: TrainModel<S, K, D>,
    O: Optimizer,
    L: Loss<K, Target = T>,
    Mt: MetricSet<K, T>,
    Wm: MetricSet<K, T>,
    Cb: Callback,
{
    let Run {
        config,
        callbacks,
        history,
        logs,
        params,
        signature,
        resume,
    } = run;
    let (config, params, signature) = (*config, *params, &*signature);
    let mut iterator =
        EpochIterator::new(adapter, config.steps_per_epoch, config.steps_per_execution)?;
    let (first_epoch, mut resume_batch) = match resume.as_ref() {
        Some(point) => {
            iterator.restore(&point.data, point.batch)?;
            (point.epoch, point.batch)
        }
        None => (config.initial_epoch, 0),
    };
    // Builds the context of a hook, with the resume point (epoch, batch, data) it stands at.
    macro_rules! hook_ctx {
        ($epoch:expr, $batch:expr, $data:expr) => {
            ctx!(
                trainer,
                logs,
                params,
                fit_progress!(trainer, K, T, history, None, $epoch, $batch, $data, signature)
            )
        };
    }
    // The run's snapshot, when a callback wants one (`Callback::on_snapshot`): every callback's
    // state, and the resume point of epoch `$epoch`, batch `$batch`. In a data-parallel run the
    // running loss and metric states are summed over the processes first (a collective: a
    // callback's `wants_snapshot` is the same on every process, as BackupAndRestore's is).
    macro_rules! snapshot {
        ($epoch:expr, $batch:expr, $data:expr, $epoch_end:expr) => {
            if callbacks.wants_snapshot() {
                let states = callbacks.state();
                let merged = match dist.num_processes() {
                    1 => None,
                    _ => {
                        trainer.read_metrics::<K, T>()?;
                        Some(trainer.merged_states::<K, T, _>(dist)?)
                    }
                };
                let host_states_only = ResidentMeans::default();
                let mut view = fit_progress!(
                    trainer,
                    K,
                    T,
                    history,
                    None,
                    $epoch,
                    $batch,
                    $data,
                    signature,
                    $epoch_end,
                    states.as_ref()
                );
                if let Some((tracker, metrics, weighted)) = &merged {
                    view.loss_tracker = tracker;
                    view.metrics = metrics.as_ref().unwrap_or(view.metrics);
                    view.weighted_metrics = weighted.as_ref().unwrap_or(view.weighted_metrics);
                    view.resident_means = &host_states_only;
                }
                callbacks.on_snapshot(&mut ctx!(trainer, logs, params, view))?;
            }
        };
    }
    // Without a callback that reads batch logs, the running loss and metrics are read (from
    // the device, where they are kept there) once per epoch.
    // (The same choice on every process: logs are combined by collectives.)
    let batch_logs = any_process(dist, callbacks.reads_batch_logs())?;
    let distributed = dist.num_processes() > 1;
    let mut last_epoch = first_epoch;
    for epoch in first_epoch..config.epochs {
        trainer.reset_metrics::<K, T>();
        logs.clear();
        let resumed = std::mem::take(&mut resume_batch);
        if let Some(point) = resume.as_ref().filter(|_| resumed > 0 && dist.is_chief()) {
            // A mid-epoch resume: the epoch's running loss and metrics continue. In a
            // data-parallel run the point holds their sum over the processes: process 0 takes
            // it, the others start from nothing, so the sum continues.
            trainer.loss_tracker = point.loss_tracker;
            trainer
                .metrics
                .load_state_values_all(&point.metric_states)?;
            trainer
                .weighted_metrics
                .load_state_values_all(&point.weighted_metric_states)?;
            // The next step starts the device copy from these host states.
            trainer.resident_means.stop();
            trainer.write_logs::<K, T>(logs, "");
        }
        callbacks.on_epoch_begin(epoch, &mut hook_ctx!(epoch, resumed, iterator.position()))?;
        if resumed == 0 {
            iterator.begin_epoch()?;
        }
        let mut steps_run = resumed;
        loop {
            let before = iterator.position();
            let Some((step, batches)) = iterator.next_group()? else {
                break;
            };
            callbacks.on_train_batch_begin(step.begin, &mut hook_ctx!(epoch, steps_run, before))?;
            for (i, batch) in batches.iter().enumerate() {
                // Dropout masks follow from the step's place (and the process, so that shards
                // of one global batch draw different masks).
                let key = step_key(
                    config.seed ^ (dist.rank() as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                    epoch as u64,
                    (steps_run + i) as u64,
                );
                trainer.train_batch_across::<S, K, T, _>(
                    batch,
                    config.skip_non_finite,
                    key,
                    dist,
                )?;
            }
            steps_run += batches.len();
            if batch_logs {
                trainer.read_metrics::<K, T>()?;
                trainer.write_logs_across::<K, T, _>(dist, logs)?;
            }
            let after = iterator.position();
            callbacks.on_train_batch_end(step.end, &mut hook_ctx!(epoch, steps_run, after))?;
            snapshot!(epoch, steps_run, after, None);
            if distributed {
                // A stop requested on any process stops every process at this step.
                trainer.stop_training = any_process(dist, trainer.stop_training)?;
            }
            if trainer.stop_training {
                break;
            }
        }
        if steps_run > resumed {
            trainer.read_metrics::<K, T>()?;
            trainer.write_logs_across::<K, T, _>(dist, logs)?;
        }
        if logs.get("loss").is_some_and(f32::is_finite) {
            crate::model::sync_values(
                &trainer.model,
                &mut trainer.params,
                &mut trainer.step_buffers,
            )?;
            if let Some((name, value)) = trainer.params.first_non_finite() {
                return Err(Error::NonFiniteWeights {
                    name: name.to_string(),
                    epoch,
                    value,
                });
            }
        }
        if steps_run == 0 {
            return Err(Error::EmptyData {
                name: "x",
                reason: "an epoch ran no step; give more data or fewer steps_per_epoch".into(),
            });
        }
        if let Some(val) = &validation {
            if config.validation_freq.should_eval(epoch) {
                let batch_size = config.validation_batch_size.unwrap_or(config.batch_size);
                let mut val_logs = Logs::new();
                evaluate_loop::<S, K, T, _, _, _, _, _, _, _, _>(
                    trainer,
                    val,
                    batch_size,
                    config.validation_steps,
                    config.check_finite,
                    callbacks,
                    &mut val_logs,
                    params,
                    dist,
                )?;
                for (k, v) in val_logs.iter() {
                    logs.set(&format!("val_{k}"), v);
                }
            }
        }
        let at_end = fit_progress!(
            trainer,
            K,
            T,
            history,
            None,
            epoch + 1,
            0,
            iterator.position(),
            signature,
            Some(epoch),
            None
        );
        callbacks.on_epoch_end(epoch, &mut ctx!(trainer, logs, params, at_end))?;
        snapshot!(epoch + 1, 0, iterator.position(), Some(epoch));
        history.on_epoch_end(epoch, &mut ctx!(trainer, logs, params))?;
        last_epoch = epoch + 1;
        if distributed {
            trainer.stop_training = any_process(dist, trainer.stop_training)?;
        }
        if trainer.stop_training {
            break;
        }
    }
    trainer.sync_host()?;
    trainer.optimizer.finalize(&mut trainer.params);
    crate::model::scatter_values(&mut trainer.model, &trainer.params)?;
    callbacks.on_train_end(&mut hook_ctx!(last_epoch, 0, iterator.position()))?;
    Ok(())
}
