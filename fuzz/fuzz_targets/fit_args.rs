//! `fit`'s builder arguments (and the optimizer's, and a ModelCheckpoint template) from
//! arbitrary bytes, on a one-layer model and six samples. Never panics or aborts, and allocates
//! for the data, not for the arguments (libFuzzer's `-rss_limit_mb` catches the rest): a
//! successful `fit` logs one loss per epoch run, and weights that went non-finite show as a
//! non-finite logged loss. Epochs are kept at most 3 so that a run stays short; every other size
//! is taken as the bytes give it, `usize::MAX` included; rates, splits, class weights and one
//! feature are in range most of the time and any bit pattern (NaN, infinities) the rest.
#![no_main]

use keras_core::callbacks::ModelCheckpoint;
use keras_core::data::{ArrayDataset, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Dense, Linear, ReLU};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::optimizers::Sgd;
use keras_core::target::Sparse;
use keras_core::trainer::ValidationFreq;
use keras_core::{Sequential, Trainer};
use libfuzzer_sys::fuzz_target;

#[derive(Sequential)]
struct Net<E: Dtype, D: Device<E>> {
    hidden: Dense<2, 4, ReLU, E, D>,
    out: Dense<4, 3, Linear, E, D>,
}

/// Reads fixed-size values off the front of the fuzzer's bytes (zeros once they run out).
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let n = N.min(self.0.len());
        out[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        out
    }
    /// A size: small values often (so that runs train), any `usize` sometimes.
    fn size(&mut self) -> usize {
        let [kind] = self.take::<1>();
        let raw = u64::from_le_bytes(self.take::<8>()) as usize;
        match kind % 4 {
            0 => raw % 8,
            1 => raw % 64,
            2 => usize::MAX - raw % 4,
            _ => raw,
        }
    }
    /// A value in `[0, scale)` often (so that runs train), any `f32` bit pattern (NaN,
    /// infinities, negatives) sometimes.
    fn f32(&mut self, scale: f32) -> f32 {
        let [kind] = self.take::<1>();
        let raw = self.take::<4>();
        match kind % 4 {
            0..=2 => f32::from(raw[0]) / 256.0 * scale,
            _ => f32::from_le_bytes(raw),
        }
    }
    fn f64(&mut self, scale: f64) -> f64 {
        let [kind] = self.take::<1>();
        let raw = self.take::<8>();
        match kind % 4 {
            0..=2 => f64::from(raw[0]) / 256.0 * scale,
            _ => f64::from_le_bytes(raw),
        }
    }
    fn flag(&mut self) -> bool {
        self.take::<1>()[0] & 1 == 1
    }
}

fuzz_target!(|bytes: &[u8]| {
    let mut b = Bytes(bytes);
    let epochs = b.size() % 4;
    let initial_epoch = b.size() % 4;
    let batch_size = b.size();
    let prefetch = b.size();
    let steps_per_execution = b.size();
    let steps_per_epoch = b.flag().then(|| b.size());
    let validation_split = b.f64(1.0);
    let validation_batch_size = b.flag().then(|| b.size());
    let validation_steps = b.flag().then(|| b.size());
    let validation_freq = b.size();
    let class_weight = b.flag().then(|| vec![b.f32(4.0), b.f32(4.0), b.f32(4.0)]);
    let learning_rate = b.f32(1.0);
    let momentum = b.f32(1.0);
    let feature = b.f32(8.0);
    // 0 (silent) or 3 (invalid): the progress bar would only slow the fuzzer down.
    let verbose = if b.flag() { 3 } else { 0 };
    let check_finite = !b.flag();
    let skip_non_finite = b.flag();
    let shuffle = match b.take::<1>()[0] % 3 {
        0 => Shuffle::None,
        1 => Shuffle::Batch,
        _ => Shuffle::Full,
    };
    let template = String::from_utf8_lossy(b.0).into_owned();

    if let Ok(checkpoint) = ModelCheckpoint::new(&template) {
        // A template accepted at construction formats any epoch without failing on its spec.
        let _ = checkpoint;
    }
    let Ok(optimizer) = Sgd::new()
        .with_momentum(f64::from(momentum))
        .with_learning_rate(learning_rate)
        .build()
    else {
        return;
    };
    let dev = Cpu::seed_from_u64(0);
    let Ok(mut trainer) = Trainer::compile(
        Net::<f32, Cpu>::build(&dev),
        optimizer,
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    ) else {
        return;
    };
    // One feature from the bytes: NaN and infinities exercise `check_finite`.
    let mut x: Vec<f32> = (0..12).map(|i| i as f32 / 10.0).collect();
    x[7] = feature;
    let y: Vec<f32> = (0..6).map(|i| (i % 3) as f32).collect();
    let data = ArrayDataset::<Rank1<2>, Sparse>::new(x, y).unwrap();
    let mut fit = trainer
        .fit(&data)
        .epochs(epochs)
        .initial_epoch(initial_epoch)
        .batch_size(batch_size)
        .prefetch(prefetch)
        .steps_per_execution(steps_per_execution)
        .validation_split(validation_split)
        .validation_freq(ValidationFreq::Every(validation_freq))
        .shuffle(shuffle)
        .verbose(verbose)
        .check_finite(check_finite)
        .skip_non_finite(skip_non_finite);
    if let Some(s) = steps_per_epoch {
        fit = fit.steps_per_epoch(s);
    }
    if let Some(s) = validation_batch_size {
        fit = fit.validation_batch_size(s);
    }
    if let Some(s) = validation_steps {
        fit = fit.validation_steps(s);
    }
    if let Some(w) = class_weight {
        fit = fit.class_weight(w);
    }
    if let Ok(history) = fit.run() {
        let losses = history.get("loss").unwrap_or(&[]);
        assert_eq!(losses.len(), epochs.saturating_sub(initial_epoch));
        // Weights are never silently non-finite: a non-finite weight shows in the losses.
        let finite = trainer.weights().values.iter().all(|w| w.is_finite());
        assert!(finite || losses.iter().any(|l| !l.is_finite()));
    }
});
