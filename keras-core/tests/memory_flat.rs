//! Resident memory stays flat however long `fit` runs.
//!
//! One test in its own binary (resident memory is the whole process's, so no other test may run
//! beside it): `fit` for 10 epochs on a small convnet (two convolutions and two poolings, as
//! Keras's MNIST convnet) and then on an MLP, sampling the process's resident set size at the end
//! of every epoch. The resident memory after the last epoch must be within 5% (or 8 MiB, the
//! larger) of that after epoch 2. Then `predict` and `evaluate` over the same data, repeated,
//! must not grow either, nor do 60 trainers compiled, fitted and dropped one after the other,
//! each on a fresh device. Last, a custom layer that moves a fresh `Vec` into a tensor at every
//! step (a buffer dfdx's allocation cache keeps but never reuses) shows the trainer's bound on the
//! cache: the memory stays within the limit and the cache is emptied. Linux only (it reads
//! `/proc/self/statm`); elsewhere the test says so and checks nothing.

use std::cell::RefCell;

use keras_core::callbacks::LambdaCallback;
use keras_core::data::ArrayDataset;
use keras_core::dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use keras_core::dfdx::nn::{BuildOnDevice, NonMutableModule};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Conv2D, Dense, Dropout, Flatten, Linear, MaxPool2D, ReLU};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::ResolvedAccuracy;
use keras_core::optimizers::Adam;
use keras_core::target::Sparse;
use keras_core::{Sequential, Trainer};

/// Keras's MNIST convnet, narrower: 28×28×1 → conv 3×3 (8) → pool 2 → conv 3×3 (16) → pool 2 →
/// flatten → dropout → 10 logits.
#[derive(Sequential)]
struct ConvNet<E: Dtype, D: Device<E>> {
    conv1: Conv2D<1, 8, 3, 26, 26, 1, 0, ReLU, E, D>,
    pool1: MaxPool2D<2, 13, 13>,
    conv2: Conv2D<8, 16, 3, 11, 11, 1, 0, ReLU, E, D>,
    pool2: MaxPool2D<2, 5, 5>,
    flatten: Flatten<400>,
    dropout: Dropout,
    logits: Dense<400, 10, Linear, E, D>,
}

/// A two-layer MLP on the same images, flattened.
#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<784, 128, ReLU, E, D>,
    logits: Dense<128, 10, Linear, E, D>,
}

/// A user's layer that multiplies by ones it builds from a fresh `Vec` at every call: the
/// buffer enters dfdx's cache when freed and no later request takes it back.
#[derive(Debug, Default, Clone, Copy)]
struct FreshOnes;

impl NonMutableModule for FreshOnes {}

impl<E: Dtype, D: Device<E>> BuildOnDevice<D, E> for FreshOnes {
    type Built = FreshOnes;
}

impl<E: Dtype, D: Device<E>> TensorCollection<E, D> for FreshOnes {
    type To<E2: Dtype, D2: Device<E2>> = FreshOnes;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields((), |_| FreshOnes)
    }
}

impl<E: Dtype, D: Device<E>, T: Tape<E, D>> Module<Tensor<(usize, Const<784>), E, D, T>>
    for FreshOnes
{
    type Output = Tensor<(usize, Const<784>), E, D, T>;
    type Error = D::Err;

    fn try_forward(&self, x: Tensor<(usize, Const<784>), E, D, T>) -> Result<Self::Output, D::Err> {
        // Padded to 256 KiB a call, so that the growth shows within a few epochs.
        let shape = (x.shape().0 + 64, Const::<784>);
        let ones = x
            .device()
            .try_tensor_from_vec(vec![E::ONE; shape.0 * 784], shape)?;
        let ones = ones.try_slice((0..x.shape().0, ..))?;
        x.try_mul(ones)
    }
}

/// [`Mlp`] behind a [`FreshOnes`].
#[derive(Sequential)]
struct LeakyMlp<E: Dtype, D: Device<E>> {
    ones: FreshOnes,
    hidden: Dense<784, 128, ReLU, E, D>,
    logits: Dense<128, 10, Linear, E, D>,
}

const SAMPLES: usize = 256;
const EPOCHS: usize = 10;

/// The process's resident set size in bytes, or `None` off Linux.
fn resident_bytes() -> Option<usize> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: usize = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// `SAMPLES` images of 784 values in [0, 1) and labels `i % 10`.
fn images() -> (Vec<f32>, Vec<f32>) {
    let x = (0..SAMPLES * 784)
        .map(|i| ((i * 7919) % 1000) as f32 / 1000.0)
        .collect();
    let y = (0..SAMPLES).map(|i| (i % 10) as f32).collect();
    (x, y)
}

/// Fits for `EPOCHS` epochs (or `$epochs`, with the cache limit `$limit`) and returns the
/// resident memory after each one, after each round of `predict` and `evaluate`, and the number
/// of times the trainer emptied the cache.
macro_rules! fit_and_sample {
    ($model:ty, $shape:ty) => {
        fit_and_sample!(
            $model,
            $shape,
            EPOCHS,
            Some(keras_core::trainer::DEFAULT_CACHE_LIMIT)
        )
    };
    ($model:ty, $shape:ty, $epochs:expr, $limit:expr) => {{
        let dev = Cpu::seed_from_u64(0);
        let (x, y) = images();
        let data = ArrayDataset::<$shape, Sparse>::new(x, y).unwrap();
        let mut trainer = Trainer::compile(
            <$model>::build(&dev),
            Adam::new().with_learning_rate(1e-3).build().unwrap(),
            SparseCategoricalCrossentropy::default().with_from_logits(true),
            (ResolvedAccuracy::<Sparse>::default(),),
            &dev,
        )
        .unwrap();
        trainer.set_cache_limit($limit);
        let samples = RefCell::new(Vec::new());
        let sampler = LambdaCallback::new()
            .with_on_epoch_end(|_, _| samples.borrow_mut().push(resident_bytes().unwrap()));
        trainer
            .fit(&data)
            .epochs($epochs)
            .batch_size(32)
            .validation_split(0.25)
            .verbose(0)
            .callbacks((sampler,))
            .run()
            .unwrap();
        let mut inference = Vec::new();
        for _ in 0..6 {
            trainer.predict(&data).batch_size(32).run().unwrap();
            trainer.evaluate(&data).batch_size(32).run().unwrap();
            inference.push(resident_bytes().unwrap());
        }
        (samples.into_inner(), inference, trainer.cache_releases())
    }};
}

/// Fails when `last` is more than 5% (or 8 MiB, the larger) above `reference`.
fn assert_flat(what: &str, reference: usize, last: usize, all: &[usize]) {
    let allowed = (reference / 20).max(8 << 20);
    let mib: Vec<String> = all
        .iter()
        .map(|b| format!("{:.1}", *b as f64 / (1 << 20) as f64))
        .collect();
    eprintln!("{what}: resident MiB per sample {mib:?}");
    assert!(
        last <= reference + allowed,
        "{what}: resident memory grew from {reference} to {last} bytes (allowed {allowed}); \
         per sample, MiB: {mib:?}"
    );
}

#[test]
fn resident_memory_after_the_last_epoch_is_within_five_percent_of_epoch_two() {
    if resident_bytes().is_none() {
        eprintln!("no /proc/self/statm here: resident memory is not measured on this system");
        return;
    }
    let (conv, conv_inference, _) = fit_and_sample!(ConvNet<f32, Cpu>, Rank3<28, 28, 1>);
    assert_eq!(conv.len(), EPOCHS);
    assert_flat("convnet fit", conv[1], conv[EPOCHS - 1], &conv);
    assert_flat(
        "convnet predict/evaluate",
        conv_inference[1],
        conv_inference[5],
        &conv_inference,
    );

    let (mlp, mlp_inference, _) = fit_and_sample!(Mlp<f32, Cpu>, Rank1<784>);
    assert_eq!(mlp.len(), EPOCHS);
    assert_flat("mlp fit", mlp[1], mlp[EPOCHS - 1], &mlp);
    assert_flat(
        "mlp predict/evaluate",
        mlp_inference[1],
        mlp_inference[5],
        &mlp_inference,
    );

    // A trainer per run on a fresh device (a hyper-parameter search): dropping each one must
    // give its buffers back (dfdx's cache frees nothing when its device goes away).
    let mut runs = Vec::new();
    for run in 0..60 {
        let dev = Cpu::seed_from_u64(run);
        let (x, y) = images();
        let data = ArrayDataset::<Rank1<784>, Sparse>::new(x, y).unwrap();
        let mut trainer = Trainer::compile(
            Mlp::<f32, Cpu>::build(&dev),
            Adam::new().build().unwrap(),
            SparseCategoricalCrossentropy::default().with_from_logits(true),
            (),
            &dev,
        )
        .unwrap();
        trainer.fit(&data).batch_size(64).verbose(0).run().unwrap();
        drop(trainer);
        runs.push(resident_bytes().unwrap());
    }
    assert_flat("a trainer per run", runs[9], runs[59], &runs);

    // 256 KiB enters the cache at every step and none leaves it: without a bound, 100 epochs of
    // 8 steps would grow the process by 200 MiB. With a 16 MiB limit the growth past the first
    // epoch stays within the limit and what the steps of one check interval add (a few MiB here;
    // 48 MiB allowed for a slow machine).
    let limit = 16 << 20;
    let (leaky, _, releases) = fit_and_sample!(LeakyMlp<f32, Cpu>, Rank1<784>, 100, Some(limit));
    assert!(releases > 0, "the cache was never emptied");
    let peak = *leaky.iter().max().unwrap();
    assert!(
        peak <= leaky[0] + limit + (48 << 20),
        "a leaking layer grew the process from {} to {peak} bytes under a {limit}-byte limit",
        leaky[0]
    );
}
