//! `fit`: the training loop. It exists once, here; everything else hooks in as a callback.

use super::{
    bounds::TrainModel,
    config::{FitConfig, ValidationFreq},
    context::ctx,
    evaluate::evaluate_loop,
    Trainer,
};
use crate::{
    callbacks::{Callback, History, Logs, ProgbarLogger, RunParams},
    data::{
        split_validation, ArrayAdapter, DataAdapter, Dataset, EpochIterator, Prefetch, SampleShape,
        Shuffle, Subset,
    },
    device::KerasDevice,
    losses::Loss,
    metrics::MetricSet,
    optimizers::Optimizer,
    target::Target,
    Error, Result,
};

/// The `fit` call being configured: Keras's arguments as chained setters, then [`Fit::run`].
///
/// Created by [`Trainer::fit`].
#[must_use = "call .run() to train"]
pub struct Fit<'t, 'd, M, O, L, Mt, Wm, D: KerasDevice, Ds: ?Sized, Vd: ?Sized, Cb> {
    trainer: &'t mut Trainer<M, O, L, Mt, Wm, D>,
    data: &'d Ds,
    validation: Option<&'d Vd>,
    config: FitConfig,
    callbacks: Cb,
}

impl<M, O, L, Mt, Wm, D: KerasDevice> Trainer<M, O, L, Mt, Wm, D> {
    /// Starts a `fit` call on `data` (features, labels and optional sample weights). Set
    /// Keras's arguments on the returned [`Fit`], then call [`Fit::run`].
    pub fn fit<'t, 'd, Ds: ?Sized>(
        &'t mut self,
        data: &'d Ds,
    ) -> Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, Ds, ()> {
        Fit {
            trainer: self,
            data,
            validation: None,
            config: FitConfig::default(),
            callbacks: (),
        }
    }
}

impl<'t, 'd, M, O, L, Mt, Wm, D: KerasDevice, Ds: ?Sized, Vd: ?Sized, Cb>
    Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, Vd, Cb>
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
    /// Batches prepared ahead on a background thread; 0 disables it. Defaults to `2`.
    pub fn prefetch(mut self, depth: usize) -> Self {
        self.config.prefetch = depth;
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
    ) -> Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, V2, Cb> {
        Fit {
            trainer: self.trainer,
            data: self.data,
            validation: Some(data),
            config: self.config,
            callbacks: self.callbacks,
        }
    }
    /// Callbacks: one, or a tuple run in order. Pass `&mut cb` to inspect it afterwards.
    pub fn callbacks<Cb2>(self, callbacks: Cb2) -> Fit<'t, 'd, M, O, L, Mt, Wm, D, Ds, Vd, Cb2> {
        Fit {
            trainer: self.trainer,
            data: self.data,
            validation: self.validation,
            config: self.config,
            callbacks,
        }
    }

    /// Trains and returns the [`History`].
    pub fn run<S: SampleShape, const K: usize, T: Target>(self) -> Result<History>
    where
        Ds: Dataset<S, T>,
        Vd: Dataset<S, T>,
        M: TrainModel<S, K, D>,
        O: Optimizer,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
        Cb: Callback,
    {
        let Fit {
            trainer,
            data,
            validation,
            config,
            callbacks,
        } = self;
        validate(&config)?;
        if let Some(v) = validation {
            let train = Subset::all(data);
            let val = Subset::all(v);
            fit_loop::<S, K, T, _, _, _, _, _, _, _, _>(
                trainer,
                train,
                Some(val),
                &config,
                callbacks,
            )
        } else if config.validation_split > 0.0 {
            let (train, val) = split_validation(data, config.validation_split)?;
            fit_loop::<S, K, T, _, _, _, _, _, _, _, _>(
                trainer,
                train,
                Some(val),
                &config,
                callbacks,
            )
        } else {
            let train = Subset::all(data);
            fit_loop::<S, K, T, _, _, _, _, _, _, _, Subset<'_, S, T, Ds>>(
                trainer, train, None, &config, callbacks,
            )
        }
    }
}

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
    if let ValidationFreq::Every(0) = config.validation_freq {
        return Err(Error::invalid("validation_freq", "must be at least 1"));
    }
    if config.verbose > 2 {
        return Err(Error::invalid("verbose", "must be 0, 1 or 2"));
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn fit_loop<S, const K: usize, T, M, O, L, Mt, Wm, D, Tr, Va>(
    trainer: &mut Trainer<M, O, L, Mt, Wm, D>,
    train: Tr,
    validation: Option<Va>,
    config: &FitConfig,
    callbacks: impl Callback,
) -> Result<History>
where
    S: SampleShape,
    T: Target,
    D: KerasDevice,
    Tr: Dataset<S, T> + Send,
    Va: Dataset<S, T> + Send,
    M: TrainModel<S, K, D>,
    O: Optimizer,
    L: Loss<K, Target = T>,
    Mt: MetricSet<K, T>,
    Wm: MetricSet<K, T>,
{
    let mut adapter =
        ArrayAdapter::new(train, config.batch_size)?.with_shuffle(config.shuffle, config.seed);
    if let Some(cw) = &config.class_weight {
        adapter = adapter.with_class_weight(cw.clone())?;
    }
    if config.prefetch > 0 {
        std::thread::scope(|scope| {
            let prefetched = Prefetch::spawn(scope, adapter, config.prefetch);
            run_epochs::<S, K, T, _, _, _, _, _, _, _, _>(
                trainer, prefetched, validation, config, callbacks,
            )
        })
    } else {
        run_epochs::<S, K, T, _, _, _, _, _, _, _, _>(
            trainer, adapter, validation, config, callbacks,
        )
    }
}

#[allow(clippy::too_many_arguments)]
fn run_epochs<S, const K: usize, T, M, O, L, Mt, Wm, D, A, Va>(
    trainer: &mut Trainer<M, O, L, Mt, Wm, D>,
    adapter: A,
    validation: Option<Va>,
    config: &FitConfig,
    callbacks: impl Callback,
) -> Result<History>
where
    S: SampleShape,
    T: Target,
    D: KerasDevice,
    A: DataAdapter,
    Va: Dataset<S, T> + Send,
    M: TrainModel<S, K, D>,
    O: Optimizer,
    L: Loss<K, Target = T>,
    Mt: MetricSet<K, T>,
    Wm: MetricSet<K, T>,
{
    let mut iterator =
        EpochIterator::new(adapter, config.steps_per_epoch, config.steps_per_execution)?;
    let mut history = History::default();
    // Keras adds History always and a ProgbarLogger when verbose != 0; both run before the
    // user's callbacks.
    let progbar = (config.verbose > 0).then(ProgbarLogger::new);
    let mut callbacks = (&mut history, progbar, callbacks);
    trainer.record_directions::<K, T>();
    let mut logs = Logs::new();
    let run = RunParams {
        epochs: config.epochs,
        steps: iterator.steps(),
        verbose: config.verbose,
    };
    trainer.stop_training = false;
    callbacks.on_train_begin(&mut ctx!(trainer, &mut logs, run))?;
    for epoch in config.initial_epoch..config.epochs {
        trainer.reset_metrics::<K, T>();
        logs.clear();
        callbacks.on_epoch_begin(epoch, &mut ctx!(trainer, &mut logs, run))?;
        iterator.begin_epoch()?;
        let mut steps_run = 0;
        while let Some((step, batches)) = iterator.next_group()? {
            callbacks.on_train_batch_begin(step.begin, &mut ctx!(trainer, &mut logs, run))?;
            for batch in batches {
                trainer.train_batch::<S, K, T>(batch)?;
            }
            steps_run += batches.len();
            trainer.write_logs::<K, T>(&mut logs, "");
            callbacks.on_train_batch_end(step.end, &mut ctx!(trainer, &mut logs, run))?;
            if trainer.stop_training {
                break;
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
                evaluate_loop::<S, K, T, _, _, _, _, _, _, _>(
                    trainer,
                    val,
                    batch_size,
                    config.validation_steps,
                    &mut callbacks,
                    &mut val_logs,
                    run,
                )?;
                for (k, v) in val_logs.iter() {
                    logs.set(&format!("val_{k}"), v);
                }
            }
        }
        callbacks.on_epoch_end(epoch, &mut ctx!(trainer, &mut logs, run))?;
        if trainer.stop_training {
            break;
        }
    }
    trainer.optimizer.finalize(&mut trainer.params);
    crate::model::scatter_values(&mut trainer.model, &trainer.params)?;
    callbacks.on_train_end(&mut ctx!(trainer, &mut logs, run))?;
    drop(callbacks);
    Ok(history)
}
