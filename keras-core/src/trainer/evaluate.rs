//! `evaluate` and `test_on_batch`: loss and metrics on data, without training.

use super::{
    bounds::{InferenceModel, LabelsFor},
    context::ctx,
    Trainer,
};
use crate::{
    callbacks::{Callback, RunParams},
    data::{
        Batch, BatchOptions, Dataset, EpochIterator, FitData, SampleShape, Sharded, Shuffle, Source,
    },
    device::KerasDevice,
    distribution::SingleProcess,
    losses::Loss,
    metrics::{MergeAcross, MetricSet},
    optimizers::Optimizer,
    state::Logs,
    target::Target,
    Error, Result,
};

/// The `evaluate` call being configured; created by [`Trainer::evaluate`]. `Dist` is the
/// [`distribution`](crate::distribution) ([`SingleProcess`] unless
/// [`Evaluate::distribution`] sets one).
#[must_use = "call .run() to evaluate"]
pub struct Evaluate<'t, 'd, M, O, L, Mt, Wm, D: KerasDevice, Ds: ?Sized, Cb, Dist = SingleProcess> {
    trainer: &'t mut Trainer<M, O, L, Mt, Wm, D>,
    data: &'d Ds,
    batch_size: usize,
    steps: Option<usize>,
    verbose: u8,
    callbacks: Cb,
    dist: Dist,
}

impl<M, O, L, Mt, Wm, D: KerasDevice> Trainer<M, O, L, Mt, Wm, D> {
    /// Starts an `evaluate` call on `data`; returns the named results (`loss`, then each metric).
    pub fn evaluate<'t, 'd, Ds: ?Sized>(
        &'t mut self,
        data: &'d Ds,
    ) -> Evaluate<'t, 'd, M, O, L, Mt, Wm, D, Ds, ()> {
        Evaluate {
            trainer: self,
            data,
            batch_size: 32,
            steps: None,
            verbose: 0,
            callbacks: (),
            dist: SingleProcess,
        }
    }

    /// Loss and metrics of one batch (the whole of `batch`), without updating the model.
    /// Metrics are reset first, so the values are the batch's own (Keras 3.15+).
    pub fn test_on_batch<S, const K: usize, T, Ds>(&mut self, batch: &Ds) -> Result<Logs>
    where
        S: SampleShape,
        T: Target,
        Ds: Dataset<S, T> + ?Sized,
        M: InferenceModel<S, K, D>,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let b = whole_batch(batch)?;
        self.reset_metrics::<K, T>();
        let step = self.test_batch::<S, K, T>(&b);
        let settled = self.settle_metrics::<K, T>();
        step?;
        settled?;
        let mut logs = Logs::new();
        self.write_logs::<K, T>(&mut logs, "");
        Ok(logs)
    }
}

/// Gathers every sample of `data` into one batch.
pub(crate) fn whole_batch<S: SampleShape, T: Target, Ds: Dataset<S, T> + ?Sized>(
    data: &Ds,
) -> Result<Batch> {
    if data.is_empty() {
        return Err(Error::EmptyData {
            name: "x",
            reason: "a batch needs at least one sample".into(),
        });
    }
    let mut b = Batch::default();
    let weighted = data.has_sample_weights();
    let mut w = Vec::new();
    for i in 0..data.len() {
        data.append_sample(i, &mut b.x, &mut b.y)?;
        if weighted {
            w.push(data.sample_weight(i).unwrap_or(1.0));
        }
    }
    b.size = data.len();
    b.sample_weight = weighted.then_some(w);
    Ok(b)
}

impl<'t, 'd, M, O, L, Mt, Wm, D: KerasDevice, Ds: ?Sized, Cb, Dist>
    Evaluate<'t, 'd, M, O, L, Mt, Wm, D, Ds, Cb, Dist>
{
    /// Samples per batch. Defaults to `32`.
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size;
        self
    }
    /// Maximum number of batches. Defaults to a full pass.
    pub fn steps(mut self, steps: usize) -> Self {
        self.steps = Some(steps);
        self
    }
    /// Verbosity, passed to callbacks. Defaults to `0`.
    pub fn verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }
    /// Callbacks (their `on_test_*` hooks run).
    pub fn callbacks<Cb2>(
        self,
        callbacks: Cb2,
    ) -> Evaluate<'t, 'd, M, O, L, Mt, Wm, D, Ds, Cb2, Dist> {
        Evaluate {
            trainer: self.trainer,
            data: self.data,
            batch_size: self.batch_size,
            steps: self.steps,
            verbose: self.verbose,
            callbacks,
            dist: self.dist,
        }
    }
    /// Evaluates over the processes of `dist`: each takes its contiguous shard of every batch
    /// of `batch_size` samples and the results combine them all, so every process returns the
    /// one-process numbers (see [`Fit::distribution`](super::Fit::distribution)). Defaults to
    /// [`SingleProcess`].
    pub fn distribution<Dist2>(
        self,
        dist: Dist2,
    ) -> Evaluate<'t, 'd, M, O, L, Mt, Wm, D, Ds, Cb, Dist2> {
        Evaluate {
            trainer: self.trainer,
            data: self.data,
            batch_size: self.batch_size,
            steps: self.steps,
            verbose: self.verbose,
            callbacks: self.callbacks,
            dist,
        }
    }

    /// Runs the evaluation and returns `loss` and each metric, in compile order. The data is a
    /// [`Dataset`](crate::data::Dataset) (batched with `batch_size`, in order) or a
    /// [`Generator`](crate::data::Generator) of batches; its labels must be the ones the loss
    /// takes (`L::Target`).
    pub fn run<S: SampleShape, const K: usize, Kind>(self) -> Result<Logs>
    where
        L: Loss<K>,
        Ds: LabelsFor<L, S, K, Kind>,
        M: InferenceModel<S, K, D>,
        O: Optimizer,
        Mt: MetricSet<K, L::Target>,
        Wm: MetricSet<K, L::Target>,
        Cb: Callback,
        Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    {
        self.run_with::<S, K, L::Target, Kind>()
    }

    fn run_with<S: SampleShape, const K: usize, T: Target, Kind>(self) -> Result<Logs>
    where
        Ds: FitData<S, T, Kind>,
        M: InferenceModel<S, K, D>,
        O: Optimizer,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
        Cb: Callback,
        Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    {
        let mut callbacks = self.callbacks;
        let trainer = self.trainer;
        // As in `fit`: callbacks write on process 0.
        if self.dist.num_processes() > 1 {
            trainer.chief = self.dist.is_chief();
        }
        let mut logs = Logs::new();
        let run = RunParams {
            epochs: 0,
            steps: None,
            verbose: self.verbose,
        };
        let ran = evaluate_loop::<S, K, T, _, _, _, _, _, _, _, _>(
            &mut *trainer,
            &self.data.input(),
            self.batch_size,
            self.steps,
            false,
            &mut callbacks,
            &mut logs,
            run,
            &self.dist,
        );
        trainer.chief = true;
        ran?;
        Ok(logs)
    }
}

/// Keras's evaluate loop: reset metrics, one (possibly shortened) pass in order, `on_test_*`
/// hooks; leaves the results in `logs`. With several processes in `dist`, each evaluates its
/// shard of every batch and the logs combine them all.
#[allow(clippy::too_many_arguments)]
pub(crate) fn evaluate_loop<S, const K: usize, T, M, O, L, Mt, Wm, D, Va, Dist>(
    trainer: &mut Trainer<M, O, L, Mt, Wm, D>,
    data: &Va,
    batch_size: usize,
    steps: Option<usize>,
    check_finite: bool,
    callbacks: &mut impl Callback,
    logs: &mut Logs,
    run: RunParams,
    dist: &Dist,
) -> Result<()>
where
    Dist: MergeAcross<Mt> + MergeAcross<Wm>,
    S: SampleShape,
    T: Target,
    D: KerasDevice,
    Va: Source<S, T> + ?Sized,
    M: InferenceModel<S, K, D>,
    O: Optimizer,
    L: Loss<K, Target = T>,
    Mt: MetricSet<K, T>,
    Wm: MetricSet<K, T>,
{
    let adapter = data.batches(&BatchOptions {
        batch_size,
        shuffle: Shuffle::None,
        check_finite,
        ..BatchOptions::default()
    })?;
    let adapter = Sharded::new(adapter, dist.rank(), dist.num_processes());
    let mut iterator = EpochIterator::new(adapter, steps, 1)?;
    let run = RunParams {
        steps: iterator.steps(),
        ..run
    };
    trainer.reset_metrics::<K, T>();
    logs.clear();
    callbacks.on_test_begin(&mut ctx!(trainer, logs, run))?;
    // The running loss and metrics (on the device when the trainer keeps them there) are read
    // after each batch only for callbacks that read batch logs.
    // (The same choice on every process: logs are combined by collectives.)
    let batch_logs = crate::distribution::any_process(dist, callbacks.reads_batch_logs())?;
    let mut batches_run = || -> Result<()> {
        iterator.begin_epoch()?;
        while let Some((step, batches)) = iterator.next_group()? {
            callbacks.on_test_batch_begin(step.begin, &mut ctx!(trainer, logs, run))?;
            for batch in batches {
                trainer.test_batch::<S, K, T>(batch)?;
            }
            if batch_logs {
                trainer.read_metrics::<K, T>()?;
                trainer.write_logs_across::<K, T, _>(dist, logs)?;
            }
            callbacks.on_test_batch_end(step.end, &mut ctx!(trainer, logs, run))?;
        }
        Ok(())
    };
    let ran = batches_run();
    // The host copy is the current one again, also after an error.
    let settled = trainer.settle_metrics::<K, T>();
    ran?;
    settled?;
    trainer.write_logs_across::<K, T, _>(dist, logs)?;
    callbacks.on_test_end(&mut ctx!(trainer, logs, run))?;
    Ok(())
}
