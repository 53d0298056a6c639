//! The same seed gives a bit-identical run: the same `History` and the same trained weights,
//! twice in one process and in two processes, with shuffling (`Shuffle::Full`, seeded),
//! prefetching on a background thread, and `Dropout` drawing its masks from the seeded device.
//!
//! # What is deterministic
//!
//! On the CPU (what these tests check), everything: the initial weights come from the device's
//! RNG (`Cpu::seed_from_u64`), the sample order of each pass depends only on `(seed, pass)`
//! (`data::Shuffle`), the prefetch thread only assembles batches in that fixed order, dfdx's
//! CPU kernels (gemm included) run in a fixed order, and the trainer's own math is single
//! threaded host code: the loss and its gradient with respect to the predictions
//! (`losses::compute_loss`), the metrics, and every optimizer update.
//!
//! # What is and is not deterministic on CUDA (`--features cuda`), by reading the kernels
//!
//! - Deterministic: initialisation (dfdx's `Cuda` device samples on the host from a `StdRng`
//!   seeded from the device seed, then copies), dropout masks (`kernels::DropoutMask`: drawn
//!   from the seed and each element's index, the same masks as on the CPU), the data pipeline,
//!   and keras-rs's own kernels: the fused `Dense` op's bias gradient and the crossentropy's
//!   loss are summed in a fixed order, the global average poolings in `f32` sum each channel
//!   over the steps in order, the metric and optimizer kernels reduce in fixed-order trees.
//! - Matmuls call cuBLAS `gemm` with its default algorithm. cuBLAS is bit-wise reproducible
//!   from run to run on the same GPU model and toolkit version with one stream per handle (the
//!   fused `Dense` op, `f32`); dfdx's matmul backward (`f64`, and products outside `Dense`)
//!   issues its two gemms on two streams with one handle, which NVIDIA documents needs
//!   `CUBLAS_WORKSPACE_CONFIG=:4096:8` (or `:16:8`) to be reproducible. Results also differ
//!   across GPU architectures and cuBLAS versions.
//! - Not deterministic: dfdx's reductions that end in `atomicAdd` (`sum_to.cu`): the backward of
//!   a broadcast outside the fused ops, every `sum`/`mean` of dfdx's ops on the device (the
//!   other losses' device forms), the backward of `select`/`gather` (indexed lookups,
//!   `Embedding` on `usize` ids, `Conv2D`'s windows in `f64`) when an index repeats, and
//!   `Embedding`'s own lookup on the trainer's float-coded ids (`embedding.cu`), whose backward
//!   adds each row's gradient with `atomicAdd` too. Float additions then happen in scheduling
//!   order, so gradients, and from there the weights and `History`, can differ in the last bits
//!   between two runs with one seed.
//!
//! So on CUDA expect the same run up to float rounding (close, not bit-identical); on the CPU
//! expect the same bits, which is what this file asserts.

use std::process::Command;

use keras_core::data::{ArrayDataset, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Dense, Dropout, Linear, ReLU};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::ResolvedAccuracy;
use keras_core::optimizers::Adam;
use keras_core::target::Sparse;
use keras_core::{Sequential, Trainer};

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 16, ReLU, E, D>,
    out: Dense<16, 3, Linear, E, D>,
}

#[derive(Sequential)]
struct DropoutMlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 16, ReLU, E, D>,
    dropout: Dropout,
    out: Dense<16, 3, Linear, E, D>,
}

/// 90 samples of three noisy classes.
fn data() -> ArrayDataset<Rank1<4>, Sparse> {
    let n = 90;
    let mut x = Vec::with_capacity(n * 4);
    let mut y = Vec::with_capacity(n);
    for i in 0..n {
        let class = i % 3;
        for j in 0..4 {
            let noise = ((i * 7 + j * 13) % 11) as f32 / 11.0 - 0.5;
            x.push(if j == class { 1.0 } else { 0.0 } + 0.3 * noise);
        }
        y.push(class as f32);
    }
    ArrayDataset::new(x, y).unwrap()
}

/// Which model a run trains.
#[derive(Debug, Clone, Copy)]
enum Variant {
    Dense,
    Dropout,
}

/// Trains from `seed` (device and shuffles) and returns the run as text: every History value
/// and every trained weight as the hex bits of its `f32`, one line per key.
fn run(variant: Variant, seed: u64) -> String {
    let dev = Cpu::seed_from_u64(seed);
    let data = data();
    let optimizer = Adam::new().with_learning_rate(0.01).build().unwrap();
    let loss = SparseCategoricalCrossentropy::default().with_from_logits(true);
    let (history, weights) = match variant {
        Variant::Dense => {
            let model = Mlp::<f32, Cpu>::build(&dev);
            let mut t = Trainer::compile(
                model,
                optimizer,
                loss,
                (ResolvedAccuracy::<Sparse>::default(),),
                &dev,
            )
            .unwrap();
            let fit = t.fit(&data).epochs(4).batch_size(8).validation_split(0.2);
            let h = fit
                .shuffle(Shuffle::Full)
                .seed(seed)
                .prefetch(2)
                .verbose(0)
                .run()
                .unwrap();
            (h, t.weights().values.clone())
        }
        Variant::Dropout => {
            let mut model = DropoutMlp::<f32, Cpu>::build(&dev);
            model.dropout = Dropout::new(0.3).unwrap();
            let mut t = Trainer::compile(
                model,
                optimizer,
                loss,
                (ResolvedAccuracy::<Sparse>::default(),),
                &dev,
            )
            .unwrap();
            let fit = t.fit(&data).epochs(4).batch_size(8).validation_split(0.2);
            let h = fit
                .shuffle(Shuffle::Full)
                .seed(seed)
                .prefetch(2)
                .verbose(0)
                .run()
                .unwrap();
            (h, t.weights().values.clone())
        }
    };
    let hex = |values: &[f32]| -> String {
        values
            .iter()
            .map(|v| format!("{:08x}", v.to_bits()))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let mut text = String::new();
    for key in &history.keys {
        text.push_str(&format!(
            "history.{key}: {}\n",
            hex(history.get(key).unwrap())
        ));
    }
    text.push_str(&format!("weights: {}\n", hex(&weights)));
    text
}

const CHILD_ENV: &str = "KERAS_DETERMINISM_CHILD";
const BEGIN: &str = "---- determinism run ----";
const END: &str = "---- end of determinism run ----";

/// In a child process started by [`same_seed_is_bit_identical_across_processes`], prints the
/// run named by `KERAS_DETERMINISM_CHILD` (`dense:<seed>` or `dropout:<seed>`); in a normal test
/// run it does nothing.
#[test]
fn child_prints_a_run_when_asked() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let (variant, seed) = spec.split_once(':').expect("variant:seed");
    let variant = match variant {
        "dense" => Variant::Dense,
        "dropout" => Variant::Dropout,
        other => panic!("unknown variant {other}"),
    };
    println!("{BEGIN}\n{}{END}", run(variant, seed.parse().unwrap()));
}

/// Runs [`child_prints_a_run_when_asked`] in a fresh process of this test binary.
fn run_in_child(spec: &str) -> String {
    let exe = std::env::current_exe().unwrap();
    let output = Command::new(exe)
        .args([
            "--exact",
            "child_prints_a_run_when_asked",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, spec)
        .output()
        .unwrap();
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "child {spec} failed:\n{stdout}");
    let start = stdout.find(BEGIN).expect("the child printed a run") + BEGIN.len() + 1;
    let end = stdout.find(END).expect("the child finished its run");
    stdout[start..end].to_string()
}

#[test]
fn same_seed_gives_bit_identical_history_and_weights_in_one_process() {
    let first = run(Variant::Dense, 7);
    let second = run(Variant::Dense, 7);
    assert_eq!(first, second);
    assert!(first.contains("history.val_loss: "), "{first}");
    assert_eq!(
        first.lines().count(),
        5,
        "4 history keys and the weights:\n{first}"
    );
}

#[test]
fn same_seed_with_dropout_gives_bit_identical_runs_in_one_process() {
    assert_eq!(run(Variant::Dropout, 11), run(Variant::Dropout, 11));
}

#[test]
fn same_seed_is_bit_identical_across_processes() {
    let runs = [
        (Variant::Dense, 7, "dense:7"),
        (Variant::Dropout, 11, "dropout:11"),
    ];
    for (variant, seed, spec) in runs {
        let here = run(variant, seed);
        let there = run_in_child(spec);
        assert_eq!(here, there, "{spec}");
    }
}

#[test]
fn another_seed_gives_another_run_so_the_comparison_is_not_vacuous() {
    assert_ne!(run(Variant::Dense, 7), run(Variant::Dense, 8));
    assert_ne!(run(Variant::Dropout, 11), run(Variant::Dropout, 12));
}

#[test]
fn dropout_changes_the_run() {
    // The same seed builds the same Dense weights; the masks must make a difference.
    let dense = run(Variant::Dense, 5);
    let dropout = run(Variant::Dropout, 5);
    assert_ne!(
        dense.lines().last(),
        dropout.lines().last(),
        "dropout had no effect on the weights"
    );
}
