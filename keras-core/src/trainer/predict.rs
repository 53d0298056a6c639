//! `predict`, `predict_on_batch` and `train_on_batch`.

use super::{
    bounds::{InferenceModel, TrainModel},
    context::ctx,
    evaluate::whole_batch,
    Trainer,
};
use crate::{
    callbacks::{Callback, RunParams},
    data::{BatchOptions, Dataset, EpochIterator, FitData, SampleShape, Shuffle, Source},
    device::KerasDevice,
    losses::Loss,
    metrics::MetricSet,
    optimizers::Optimizer,
    state::Logs,
    target::Target,
    Result,
};

/// The `predict` call being configured; created by [`Trainer::predict`].
#[must_use = "call .run() to predict"]
pub struct Predict<'t, 'd, M, O, L, Mt, Wm, D: KerasDevice, Ds: ?Sized, Cb> {
    trainer: &'t mut Trainer<M, O, L, Mt, Wm, D>,
    data: &'d Ds,
    batch_size: usize,
    steps: Option<usize>,
    callbacks: Cb,
}

impl<M, O, L, Mt, Wm, D: KerasDevice> Trainer<M, O, L, Mt, Wm, D> {
    /// Starts a `predict` call on `data` (labels, if any, are ignored). [`Predict::run`]
    /// returns the model's outputs, row-major, batches concatenated (the partial last batch
    /// included).
    pub fn predict<'t, 'd, Ds: ?Sized>(
        &'t mut self,
        data: &'d Ds,
    ) -> Predict<'t, 'd, M, O, L, Mt, Wm, D, Ds, ()> {
        Predict {
            trainer: self,
            data,
            batch_size: 32,
            steps: None,
            callbacks: (),
        }
    }

    /// The model's outputs for one batch (the whole of `batch`).
    pub fn predict_on_batch<S, const K: usize, T, Ds>(&mut self, batch: &Ds) -> Result<Vec<f32>>
    where
        S: SampleShape,
        T: Target,
        Ds: Dataset<S, T> + ?Sized,
        M: InferenceModel<S, K, D>,
    {
        let b = whole_batch(batch)?;
        self.forward_batch::<S, K>(&b.x, b.size)?;
        Ok(self.y_host.clone())
    }

    /// One optimizer step on one batch (the whole of `batch`, with its sample weights); returns
    /// that batch's loss and metrics (metrics are reset first, as Keras 3.15+ does).
    pub fn train_on_batch<S, const K: usize, T, Ds>(&mut self, batch: &Ds) -> Result<Logs>
    where
        S: SampleShape,
        T: Target,
        Ds: Dataset<S, T> + ?Sized,
        M: TrainModel<S, K, D>,
        O: Optimizer,
        L: Loss<K, Target = T>,
        Mt: MetricSet<K, T>,
        Wm: MetricSet<K, T>,
    {
        let b = whole_batch(batch)?;
        self.reset_metrics::<K, T>();
        // Dropout masks keyed by the optimizer's step count (train_on_batch has no epoch).
        let key = crate::layers::dropout_seeds::step_key(u64::MAX, 0, self.optimizer.iterations());
        let step = self.train_batch::<S, K, T>(&b, false, key);
        // The weights and the optimizer's state read as after the step, even after an error.
        let synced = self.sync_host();
        let settled = self.settle_metrics::<K, T>();
        step?;
        synced?;
        settled?;
        let mut logs = Logs::new();
        self.write_logs::<K, T>(&mut logs, "");
        Ok(logs)
    }
}

impl<'t, 'd, M, O, L, Mt, Wm, D: KerasDevice, Ds: ?Sized, Cb>
    Predict<'t, 'd, M, O, L, Mt, Wm, D, Ds, Cb>
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
    /// Callbacks (their `on_predict_*` hooks run).
    pub fn callbacks<Cb2>(self, callbacks: Cb2) -> Predict<'t, 'd, M, O, L, Mt, Wm, D, Ds, Cb2> {
        Predict {
            trainer: self.trainer,
            data: self.data,
            batch_size: self.batch_size,
            steps: self.steps,
            callbacks,
        }
    }

    /// Runs the model over the data (a [`Dataset`](crate::data::Dataset), in order, or a
    /// [`Generator`](crate::data::Generator) of batches); returns `n * K` outputs, row-major.
    pub fn run<S: SampleShape, const K: usize, T: Target, Kind>(self) -> Result<Vec<f32>>
    where
        Ds: FitData<S, T, Kind>,
        M: InferenceModel<S, K, D>,
        O: Optimizer,
        Cb: Callback,
    {
        let trainer = self.trainer;
        let mut callbacks = self.callbacks;
        let input = self.data.input();
        let adapter = input.batches(&BatchOptions {
            batch_size: self.batch_size,
            shuffle: Shuffle::None,
            ..BatchOptions::default()
        })?;
        let mut iterator = EpochIterator::new(adapter, self.steps, 1)?;
        let mut logs = Logs::new();
        let run = RunParams {
            epochs: 0,
            steps: iterator.steps(),
            verbose: 0,
        };
        let mut out = Vec::with_capacity(input.samples().unwrap_or(0) * K);
        callbacks.on_predict_begin(&mut ctx!(trainer, &mut logs, run))?;
        iterator.begin_epoch()?;
        while let Some((step, batches)) = iterator.next_group()? {
            callbacks.on_predict_batch_begin(step.begin, &mut ctx!(trainer, &mut logs, run))?;
            for batch in batches {
                trainer.forward_batch::<S, K>(&batch.x, batch.size)?;
                out.extend_from_slice(&trainer.y_host);
            }
            callbacks.on_predict_batch_end(step.end, &mut ctx!(trainer, &mut logs, run))?;
        }
        callbacks.on_predict_end(&mut ctx!(trainer, &mut logs, run))?;
        Ok(out)
    }
}
