//! The three training loops that are timed on the same data, in order, without shuffling:
//!
//! - `fit`: [`Trainer::fit`] (verbose 0, prefetch 2 unless `--prefetch`), Keras-form Adam, host-side
//!   `SparseCategoricalCrossentropy(from_logits=True)`.
//! - `hand`: a hand-written dfdx loop over the same Keras `Dense` model, with dfdx's
//!   `cross_entropy_with_logits_loss` and the same Keras-form [`Adam`] applied by
//!   [`optimizer_step`] (the step `fit` takes: resident, on the model's own buffers): the same kernels as `fit`
//!   (the batch marked as data with `mark_data_input`, as `fit` does), without the trainer
//!   around them.
//! - `dfdx`: pure dfdx: its `Linear`/`ReLU` layers, `cross_entropy_with_logits_loss` and
//!   `dfdx::optim::Adam` (same learning rate, betas and epsilon; dfdx adds epsilon to the
//!   bias-corrected `sqrt(v)`). Its initialisation differs (dfdx's uniform, not Glorot).

use std::time::Instant;

use dfdx::nn::{BuildOnDevice, DeviceBuildExt};
use dfdx::optim::{AdamConfig, Optimizer as _};
use dfdx::prelude::{cross_entropy_with_logits_loss, AsArray, Backward, Cache, OwnedTape, Trace};
use keras::callbacks::{Callback, CallbackContext};
use keras::data::loaders::save_npy;
use keras::data::{Dataset, NpyDataset, SampleShape};
use keras::kernels::mark_data_input;
use keras::model::{layout, optimizer_step, StepBuffers};
use keras::optimizers::FlatParams;
use keras::prelude::{
    losses, Adam, ArrayDataset, BuildModule, Const, Cpu, Device, ModuleMut, Rank1, Shuffle, Sparse,
    Tensor, Trainer, ZeroGrads,
};
use keras::state::StepProfile;
use keras::trainer::{OutputShape, TrainModel};

use crate::report::cpu_secs;
use crate::synthetic::Workload;

/// A batch of `N`-wide rows on device `D` (the host unless said).
type Rows<const N: usize, D = Cpu> = Tensor<(usize, Const<N>), f32, D>;

/// Output of a training forward: `(batch, K)` logits on the tape.
type Taped<const K: usize, D = Cpu> = Tensor<(usize, Const<K>), f32, D, OwnedTape<f32, D>>;

/// A dfdx architecture (builders) that the pure dfdx loop trains on device `D`: `I` features in,
/// `K` logits out.
pub trait DfdxArch<D: Device<f32>, const I: usize, const K: usize>:
    BuildOnDevice<D, f32, Built = Self::Net>
{
    /// The built network.
    type Net: ZeroGrads<f32, D>
        + dfdx::nn::tensor_collection::TensorCollection<f32, D>
        + ModuleMut<Taped<I, D>, Output = Taped<K, D>>;
}

impl<A, D: Device<f32>, const I: usize, const K: usize> DfdxArch<D, I, K> for A
where
    A: BuildOnDevice<D, f32>,
    A::Built: ZeroGrads<f32, D>
        + dfdx::nn::tensor_collection::TensorCollection<f32, D>
        + ModuleMut<Taped<I, D>, Output = Taped<K, D>>,
{
    type Net = A::Built;
}

/// What one loop measured.
pub struct Run {
    /// Which loop.
    pub label: &'static str,
    /// Wall seconds of each epoch, the warm-up first.
    pub epoch_secs: Vec<f64>,
    /// CPU seconds of each epoch, all of the process's threads together (see
    /// [`cpu_secs`](crate::report::cpu_secs)).
    pub epoch_cpu_secs: Vec<f64>,
    /// Samples trained per epoch (the partial last batch included).
    pub samples: usize,
    /// Sample-weighted mean loss of the last epoch.
    pub final_loss: f32,
    /// Peak resident set (VmHWM) in MiB, measured after the loop.
    pub peak_rss_mb: f64,
    /// Resident set (VmRSS) in MiB at the end of each epoch (`fit` only; empty for the others).
    pub epoch_rss_mb: Vec<f64>,
    /// Samples/s of every round this run is the median of, in the order they ran (filled by
    /// [`Run::median`]).
    pub rounds: Vec<f64>,
    /// Samples per CPU-second of every round, sorted (filled by [`Run::median`]).
    pub cpu_rounds: Vec<f64>,
}

impl Run {
    /// Samples per second over the epochs after the first.
    pub fn samples_per_sec(&self) -> f64 {
        let timed: f64 = self.epoch_secs[1..].iter().sum();
        (self.epoch_secs.len() - 1) as f64 * self.samples as f64 / timed
    }

    /// Median samples per CPU-second over the rounds (this run's own before [`Run::median`]).
    pub fn median_cpu(&self) -> f64 {
        self.cpu_rounds
            .get(self.cpu_rounds.len() / 2)
            .copied()
            .unwrap_or_else(|| self.samples_per_cpu_sec())
    }

    /// Samples per CPU-second over the epochs after the first: throughput that load from other
    /// processes on a shared machine inflates far less than wall time.
    pub fn samples_per_cpu_sec(&self) -> f64 {
        let timed: f64 = self.epoch_cpu_secs.iter().skip(1).sum();
        (self.epoch_cpu_secs.len().saturating_sub(1)) as f64 * self.samples as f64 / timed
    }

    /// The run with the median samples/s (the upper one for an even count), with every
    /// round's samples/s in `rounds`.
    pub fn median(mut runs: Vec<Run>) -> Option<Run> {
        let rounds = runs.iter().map(Run::samples_per_sec).collect();
        runs.sort_by(|a, b| a.samples_per_sec().total_cmp(&b.samples_per_sec()));
        let mut cpu_rounds: Vec<f64> = runs.iter().map(Run::samples_per_cpu_sec).collect();
        cpu_rounds.sort_by(f64::total_cmp);
        let mid = runs.len() / 2;
        let mut run = runs.into_iter().nth(mid)?;
        run.rounds = rounds;
        run.cpu_rounds = cpu_rounds;
        Some(run)
    }
}

/// Keras's Adam(1e-3, 0.9, 0.999, 1e-7).
fn keras_adam() -> keras::Result<keras::optimizers::KerasOptimizer<Adam>> {
    Adam::new()
        .with_learning_rate(1e-3)
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-7)
        .build()
}

/// Times `fit` on `data` on the CPU.
pub fn run_fit<M, S: SampleShape, const K: usize>(
    w: &Workload,
    data: &ArrayDataset<S, Sparse>,
    epochs: usize,
    prefetch: usize,
) -> keras::Result<Run>
where
    M: BuildModule<Cpu, f32> + TrainModel<S, K, Cpu>,
{
    run_fit_on::<M, Cpu, S, K, _>(w, data, epochs, prefetch, &Cpu::seed_from_u64(0), "fit")
}

/// Times `predict` (batches of the workload's size, in order) over the whole of `data`,
/// `passes` times: a model built as `fit`'s starts (its untrained weights cost what trained
/// ones do), the first pass warm-up. `final_loss` is the mean of the outputs of the last pass
/// (a check that two builds computed the same thing).
pub fn run_predict<M, S: SampleShape, const K: usize>(
    w: &Workload,
    data: &ArrayDataset<S, Sparse>,
    passes: usize,
) -> keras::Result<Run>
where
    M: BuildModule<Cpu, f32> + TrainModel<S, K, Cpu>,
{
    let dev = Cpu::seed_from_u64(0);
    let mut trainer = Trainer::compile(
        M::build(&dev),
        keras_adam()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let (mut secs, mut cpu, mut rss) = (Vec::new(), Vec::new(), Vec::new());
    let mut mean = f32::NAN;
    for _ in 0..passes {
        let (start, cpu_start) = (Instant::now(), cpu_secs());
        let out = trainer
            .predict(data)
            .batch_size(w.batch)
            .run::<S, K, _, _>()?;
        secs.push(start.elapsed().as_secs_f64());
        cpu.push(cpu_secs() - cpu_start);
        rss.push(crate::report::rss_mb());
        mean = (out.iter().map(|&v| f64::from(v)).sum::<f64>() / out.len().max(1) as f64) as f32;
    }
    Ok(Run {
        label: "predict",
        epoch_secs: secs,
        epoch_cpu_secs: cpu,
        samples: w.samples,
        final_loss: mean,
        peak_rss_mb: crate::report::peak_rss_mb(),
        epoch_rss_mb: rss,
        rounds: Vec::new(),
        cpu_rounds: Vec::new(),
    })
}

/// Times `fit` on the same data mapped from `.npy` files (`NpyDataset`) written to a temporary
/// folder, which is removed afterwards (`--only mapped`).
pub fn run_mapped<M, const I: usize, const K: usize>(
    w: &Workload,
    data: &ArrayDataset<Rank1<I>, Sparse>,
    epochs: usize,
    prefetch: usize,
) -> keras::Result<Run>
where
    M: BuildModule<Cpu, f32> + TrainModel<Rank1<I>, K, Cpu>,
{
    let dir = std::env::temp_dir().join(format!("keras-bench-mapped-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| keras::Error::io(&dir, e))?;
    let (x, y) = (dir.join("x.npy"), dir.join("y.npy"));
    save_npy(&x, &[w.samples, I], data.x())?;
    save_npy(&y, &[w.samples], data.y())?;
    let mapped = NpyDataset::<Rank1<I>, Sparse>::open(&x, &y)?;
    let dev = Cpu::seed_from_u64(0);
    let run = run_fit_on::<M, Cpu, Rank1<I>, K, _>(w, &mapped, epochs, prefetch, &dev, "mapped");
    drop(mapped);
    let _ = std::fs::remove_dir_all(&dir);
    run
}

/// Times `fit` on `data` on device `dev` (`--device cuda` runs it on the GPU).
pub fn run_fit_on<M, D, S: SampleShape, const K: usize, Ds: Dataset<S, Sparse> + Send>(
    w: &Workload,
    data: &Ds,
    epochs: usize,
    prefetch: usize,
    dev: &D,
    label: &'static str,
) -> keras::Result<Run>
where
    D: keras::device::KerasDevice,
    M: BuildModule<D, f32> + TrainModel<S, K, D>,
{
    let mut timer = EpochTimer::default();
    let (final_loss, _) =
        fit_model::<M, D, S, K, _>(w, data, epochs, prefetch, dev, &mut timer, false)?;
    Ok(Run {
        label,
        epoch_secs: timer.secs,
        epoch_cpu_secs: timer.cpu_secs,
        samples: w.samples,
        final_loss,
        peak_rss_mb: crate::report::peak_rss_mb(),
        epoch_rss_mb: timer.rss_mb,
        rounds: Vec::new(),
        cpu_rounds: Vec::new(),
    })
}

/// Builds `M` on `dev`, compiles it as every loop does (Keras's Adam, sparse crossentropy from
/// logits) and fits it in order with `callbacks`; with `profile`, the second epoch's steps (at
/// most 200) are profiled phase by phase. Returns the last epoch's mean loss and the profile
/// (empty without `profile`).
#[allow(clippy::too_many_arguments)]
fn fit_model<M, D, S: SampleShape, const K: usize, Ds: Dataset<S, Sparse> + Send>(
    w: &Workload,
    data: &Ds,
    epochs: usize,
    prefetch: usize,
    dev: &D,
    callbacks: impl Callback,
    profile: bool,
) -> keras::Result<(f32, StepProfile)>
where
    D: keras::device::KerasDevice,
    M: BuildModule<D, f32> + TrainModel<S, K, D>,
{
    let mut trainer = Trainer::compile(
        M::build(dev),
        keras_adam()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        dev,
    )?;
    if profile {
        let steps = w.samples.div_ceil(w.batch);
        trainer.set_step_profile(steps, steps.min(200))?;
    }
    let history = trainer
        .fit(data)
        .epochs(epochs)
        .batch_size(w.batch)
        .shuffle(Shuffle::None)
        .verbose(0)
        .prefetch(prefetch)
        .callbacks(callbacks)
        .run()?;
    let loss = history
        .get("loss")
        .and_then(|l| l.last().copied())
        .unwrap_or(f32::NAN);
    Ok((loss, trainer.step_profile()?))
}

/// `--profile`: two epochs of `fit` as [`run_fit_on`] compiles it, the second epoch's steps (at
/// most 200) profiled phase by phase.
pub fn profile_fit<M, D, S: SampleShape, const K: usize, Ds: Dataset<S, Sparse> + Send>(
    w: &Workload,
    data: &Ds,
    prefetch: usize,
    dev: &D,
) -> keras::Result<StepProfile>
where
    D: keras::device::KerasDevice,
    M: BuildModule<D, f32> + TrainModel<S, K, D>,
{
    fit_model::<M, D, S, K, _>(w, data, 2, prefetch, dev, (), true).map(|(_, profile)| profile)
}

/// Times the hand-written loop with Keras's Adam on the flat parameters.
pub fn run_hand<M, const I: usize, const K: usize>(
    w: &Workload,
    x: &[f32],
    y: &[f32],
    epochs: usize,
) -> keras::Result<Run>
where
    M: BuildModule<Cpu, f32> + TrainModel<Rank1<I>, K, Cpu>,
{
    let mut hand = HandLoop::<M, I, K>::new()?;
    let mut epoch_secs = Vec::new();
    let mut epoch_cpu_secs = Vec::new();
    let mut final_loss = f32::NAN;
    for _ in 0..epochs {
        let start = Instant::now();
        let cpu_start = cpu_secs();
        let mut loss_sum = 0f64;
        for first in (0..y.len()).step_by(w.batch) {
            let n = w.batch.min(y.len() - first);
            let loss = hand.step(&x[first * I..(first + n) * I], &y[first..first + n])?;
            loss_sum += f64::from(loss) * n as f64;
        }
        epoch_secs.push(start.elapsed().as_secs_f64());
        epoch_cpu_secs.push(cpu_secs() - cpu_start);
        final_loss = (loss_sum / w.samples as f64) as f32;
    }
    Ok(Run {
        label: "hand",
        epoch_secs,
        epoch_cpu_secs,
        samples: w.samples,
        final_loss,
        peak_rss_mb: crate::report::peak_rss_mb(),
        epoch_rss_mb: Vec::new(),
        rounds: Vec::new(),
        cpu_rounds: Vec::new(),
    })
}

/// The hand-written loop's state: the Keras `Dense` model `M` (built from seed 0, so with the
/// same initial weights as `fit`'s), its flat parameters, Keras's Adam, the reused gradients and
/// the optimizer step's scratch.
struct HandLoop<M, const I: usize, const K: usize> {
    dev: Cpu,
    model: M,
    params: FlatParams,
    opt: keras::optimizers::KerasOptimizer<Adam>,
    grads: Option<dfdx::tensor::Gradients<f32, Cpu>>,
    one_hot: Vec<f32>,
    buffers: StepBuffers<Cpu>,
}

impl<M, const I: usize, const K: usize> HandLoop<M, I, K>
where
    M: BuildModule<Cpu, f32> + TrainModel<Rank1<I>, K, Cpu>,
{
    fn new() -> keras::Result<Self> {
        let dev = Cpu::seed_from_u64(0);
        // As `Trainer::compile` does: each step reuses the buffers the step before freed.
        dev.enable_cache();
        let model = M::build(&dev);
        Ok(Self {
            params: layout(&model)?,
            grads: Some(model.alloc_grads()),
            model,
            opt: keras_adam()?,
            one_hot: Vec::new(),
            buffers: StepBuffers::new(dev.clone()),
            dev,
        })
    }

    /// One step on the rows `x` with class ids `y`; returns the batch's mean loss.
    fn step(&mut self, x: &[f32], y: &[f32]) -> keras::Result<f32> {
        let (xb, yb) = batch_tensors::<Cpu, I, K>(&self.dev, x, y, &mut self.one_hot);
        let mut grads = match self.grads.take() {
            Some(g) => g,
            None => self.model.alloc_grads(),
        };
        // As `fit` does: the batch is data, so the fused Dense op skips its gradient.
        mark_data_input(&mut grads, &xb);
        let xb = xb.traced(grads);
        let logits: Taped<K> = OutputShape::into_output(self.model.forward_mut(xb));
        let loss = cross_entropy_with_logits_loss(logits, yb);
        let value = loss.array();
        let mut grads = loss.backward();
        // Leaves the gradients zeroed.
        optimizer_step(
            &mut self.model,
            &mut grads,
            &mut self.opt,
            &mut self.params,
            &mut self.buffers,
        )?;
        self.grads = Some(grads);
        Ok(value)
    }
}

/// Times the pure dfdx loop on the architecture `A` (dfdx builders) on the CPU.
pub fn run_dfdx<A: DfdxArch<Cpu, I, K>, const I: usize, const K: usize>(
    w: &Workload,
    x: &[f32],
    y: &[f32],
    epochs: usize,
) -> keras::Result<Run> {
    run_dfdx_on::<A, Cpu, I, K>(w, x, y, epochs, &Cpu::seed_from_u64(0), "dfdx")
}

/// Times the pure dfdx loop on device `dev` (`--device cuda` runs it on the GPU, where dfdx's
/// Adam runs on the device too).
pub fn run_dfdx_on<A, D, const I: usize, const K: usize>(
    w: &Workload,
    x: &[f32],
    y: &[f32],
    epochs: usize,
    dev: &D,
    label: &'static str,
) -> keras::Result<Run>
where
    A: DfdxArch<D, I, K>,
    D: Device<f32> + DeviceBuildExt + dfdx::tensor::TensorToArray<(), f32, Array = f32>,
{
    let mut model = dev.build_module::<A, f32>();
    let cfg = AdamConfig {
        lr: 1e-3,
        betas: [0.9, 0.999],
        eps: 1e-7,
        weight_decay: None,
    };
    let mut opt = dfdx::optim::Adam::new(&model, cfg);
    let mut grads = model.alloc_grads();
    let mut epoch_secs = Vec::new();
    let mut epoch_cpu_secs = Vec::new();
    let mut final_loss = f32::NAN;
    for _ in 0..epochs {
        let start = Instant::now();
        let cpu_start = cpu_secs();
        let mut loss_sum = 0f64;
        for (xb, yb, n) in batches::<D, I, K>(dev, x, y, w.batch) {
            let logits = model.forward_mut(xb.traced(grads));
            let loss = cross_entropy_with_logits_loss(logits, yb);
            loss_sum += f64::from(loss.array()) * n as f64;
            grads = loss.backward();
            opt.update(&mut model, &grads)
                .map_err(|e| keras::Error::Device(format!("{e:?}")))?;
            model.zero_grads(&mut grads);
        }
        epoch_secs.push(start.elapsed().as_secs_f64());
        epoch_cpu_secs.push(cpu_secs() - cpu_start);
        final_loss = (loss_sum / w.samples as f64) as f32;
    }
    Ok(Run {
        label,
        epoch_secs,
        epoch_cpu_secs,
        samples: w.samples,
        final_loss,
        peak_rss_mb: crate::report::peak_rss_mb(),
        epoch_rss_mb: Vec::new(),
        rounds: Vec::new(),
        cpu_rounds: Vec::new(),
    })
}

/// The batches of one in-order pass: features, one-hot labels and the batch size.
fn batches<'a, D: Device<f32>, const I: usize, const K: usize>(
    dev: &'a D,
    x: &'a [f32],
    y: &'a [f32],
    batch: usize,
) -> impl Iterator<Item = (Rows<I, D>, Rows<K, D>, usize)> + 'a {
    let mut one_hot = Vec::new();
    (0..y.len()).step_by(batch).map(move |start| {
        let n = batch.min(y.len() - start);
        let x = &x[start * I..(start + n) * I];
        let (xb, yb) = batch_tensors::<D, I, K>(dev, x, &y[start..start + n], &mut one_hot);
        (xb, yb, n)
    })
}

/// The feature rows `x` and the one-hot labels of class ids `y` as tensors, made as the trainer
/// makes its batch (`zeros_like` from dfdx's allocator, then `copy_from`), so the loops differ
/// from `fit` only in what surrounds the kernels. `one_hot` is a reused scratch buffer.
fn batch_tensors<D: Device<f32>, const I: usize, const K: usize>(
    dev: &D,
    x: &[f32],
    y: &[f32],
    one_hot: &mut Vec<f32>,
) -> (Rows<I, D>, Rows<K, D>) {
    let n = y.len();
    let mut xb = dev.zeros_like(&(n, Const::<I>));
    xb.copy_from(x);
    one_hot.clear();
    one_hot.resize(n * K, 0f32);
    for (row, &label) in y.iter().enumerate() {
        one_hot[row * K + label as usize] = 1.0;
    }
    let mut yb = dev.zeros_like(&(n, Const::<K>));
    yb.copy_from(one_hot);
    (xb, yb)
}

/// Records each epoch's wall time inside `fit`.
#[derive(Default)]
struct EpochTimer {
    start: Option<(Instant, f64)>,
    secs: Vec<f64>,
    cpu_secs: Vec<f64>,
    rss_mb: Vec<f64>,
}

impl Callback for EpochTimer {
    fn on_epoch_begin<C: CallbackContext>(&mut self, _: usize, _: &mut C) -> keras::Result<()> {
        self.start = Some((Instant::now(), cpu_secs()));
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, _: usize, _: &mut C) -> keras::Result<()> {
        if let Some((start, cpu_start)) = self.start.take() {
            self.secs.push(start.elapsed().as_secs_f64());
            self.cpu_secs.push(cpu_secs() - cpu_start);
            self.rss_mb.push(crate::report::rss_mb());
        }
        Ok(())
    }
}

/// `--paired`: one `fit` run whose callback runs one step of the hand-written loop (on its own
/// model, same batch) after each of `fit`'s steps, so that both see the same moment's machine
/// load; returns the `fit` and `hand` timings, epoch by epoch. `fit`'s time is everything between
/// two hand steps: its data pipeline, step, logs and hooks.
pub fn run_paired<M, const I: usize, const K: usize>(
    w: &Workload,
    data: &ArrayDataset<Rank1<I>, Sparse>,
    epochs: usize,
    prefetch: usize,
) -> keras::Result<[Run; 2]>
where
    M: BuildModule<Cpu, f32> + TrainModel<Rank1<I>, K, Cpu>,
{
    let mut hand = PairedHand::<M, I, K> {
        hand: HandLoop::new()?,
        x: data.x().to_vec(),
        y: data.y().to_vec(),
        batch: w.batch,
        mark: Instant::now(),
        secs: [0.0; 2],
        epoch_secs: [Vec::new(), Vec::new()],
        loss_sum: 0.0,
    };
    let fit_dev = Cpu::seed_from_u64(0);
    let fit_loss =
        fit_model::<M, Cpu, Rank1<I>, K, _>(w, data, epochs, prefetch, &fit_dev, &mut hand, false)?
            .0;
    let [fit_secs, hand_secs] = hand.epoch_secs;
    let run = |label, epoch_secs, final_loss| Run {
        label,
        epoch_cpu_secs: Vec::new(),
        epoch_secs,
        samples: w.samples,
        final_loss,
        peak_rss_mb: crate::report::peak_rss_mb(),
        epoch_rss_mb: Vec::new(),
        rounds: Vec::new(),
        cpu_rounds: Vec::new(),
    };
    let hand_loss = (hand.loss_sum / w.samples as f64) as f32;
    Ok([
        run("fit", fit_secs, fit_loss),
        run("hand", hand_secs, hand_loss),
    ])
}

/// The hand-written loop, one step per `fit` step (see [`run_paired`]).
struct PairedHand<M, const I: usize, const K: usize> {
    /// The hand-written loop, on its own model (same initial weights as `fit`'s).
    hand: HandLoop<M, I, K>,
    x: Vec<f32>,
    y: Vec<f32>,
    batch: usize,
    /// When the last hand step (or the epoch) began `fit`'s time.
    mark: Instant,
    /// This epoch's seconds so far: `fit`, hand.
    secs: [f64; 2],
    /// Seconds per epoch: `fit`, hand.
    epoch_secs: [Vec<f64>; 2],
    /// Sample-weighted loss sum of the hand loop's current epoch.
    loss_sum: f64,
}

impl<M, const I: usize, const K: usize> PairedHand<M, I, K>
where
    M: BuildModule<Cpu, f32> + TrainModel<Rank1<I>, K, Cpu>,
{
    /// The hand-written loop's step on batch `index` of the in-order pass.
    fn step(&mut self, index: usize) -> keras::Result<()> {
        let start = index * self.batch;
        let n = self.batch.min(self.y.len() - start);
        let (x, y) = (
            &self.x[start * I..(start + n) * I],
            &self.y[start..start + n],
        );
        let loss = self.hand.step(x, y)?;
        self.loss_sum += f64::from(loss) * n as f64;
        Ok(())
    }
}

impl<M, const I: usize, const K: usize> Callback for PairedHand<M, I, K>
where
    M: BuildModule<Cpu, f32> + TrainModel<Rank1<I>, K, Cpu>,
{
    fn on_epoch_begin<C: CallbackContext>(&mut self, _: usize, _: &mut C) -> keras::Result<()> {
        self.secs = [0.0; 2];
        self.loss_sum = 0.0;
        self.mark = Instant::now();
        Ok(())
    }

    fn on_train_batch_end<C: CallbackContext>(
        &mut self,
        batch: usize,
        _: &mut C,
    ) -> keras::Result<()> {
        let begin = Instant::now();
        self.secs[0] += (begin - self.mark).as_secs_f64();
        self.step(batch)?;
        self.mark = Instant::now();
        self.secs[1] += (self.mark - begin).as_secs_f64();
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, _: usize, _: &mut C) -> keras::Result<()> {
        self.secs[0] += self.mark.elapsed().as_secs_f64();
        for (all, s) in self.epoch_secs.iter_mut().zip(self.secs) {
            all.push(s);
        }
        Ok(())
    }
}
