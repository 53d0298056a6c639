//! Every save/restore door, on a model that holds BatchNormalization (moving statistics) and
//! Dropout: the restored model predicts bit for bit as the saved one (inference: Dropout off,
//! the moving statistics used), and where the door saves the optimizer's state too, the two
//! train on bit for bit (same Dropout masks, same Adam slots, same statistics).
//! `BackupAndRestore` is shown in `backup_and_restore.rs`, `restore_best_weights` in
//! `moving_statistics.rs`.

mod common;

use common::{test_device, TestDevice};
use keras_core::callbacks::ModelCheckpoint;
use keras_core::data::{ArrayDataset, Shuffle};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::optimizers::KerasOptimizer;
use keras_core::prelude::*;
use keras_core::target::Sparse;
use keras_core::Error;

#[derive(Sequential)]
struct Net<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, Linear, E, D>,
    #[layer(momentum = 0.9)]
    norm: BatchNormalization<8, E, D>,
    act: ReLU,
    #[layer(rate = 0.25)]
    drop: Dropout,
    out: Dense<8, 3, Linear, E, D>,
}

type NetTrainer = Trainer<
    Net<f32, TestDevice>,
    KerasOptimizer<Adam>,
    SparseCategoricalCrossentropy,
    (),
    (),
    TestDevice,
>;

/// A fresh trainer; `seed` draws the initial weights.
fn trainer(seed: u64) -> NetTrainer {
    let dev = test_device(seed);
    Trainer::compile(
        Net::<f32, TestDevice>::build(&dev),
        Adam::new().with_learning_rate(0.02).build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap()
}

fn data() -> ArrayDataset<Rank1<4>, Sparse> {
    let x = (0..4 * 40)
        .map(|i| ((i * 7 % 13) as f32 - 6.0) / 3.0)
        .collect();
    let y = (0..40).map(|i| (i % 3) as f32).collect();
    ArrayDataset::new(x, y).unwrap()
}

/// Trains epochs `from..to` (batches of 8, shuffled, seeded: the Dropout masks follow from the
/// seed and the step's place).
fn train(trainer: &mut NetTrainer, from: usize, to: usize) -> History {
    trainer
        .fit(&data())
        .initial_epoch(from)
        .epochs(to)
        .batch_size(8)
        .shuffle(Shuffle::Full)
        .seed(5)
        .verbose(0)
        .run()
        .unwrap()
}

/// A trainer after three epochs: its moving statistics and Adam slots are far from their start.
fn trained() -> NetTrainer {
    let mut t = trainer(1);
    train(&mut t, 0, 3);
    t
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn predictions(t: &mut NetTrainer) -> Vec<u32> {
    bits(&t.predict(&data()).run().unwrap())
}

fn moving_statistics(t: &NetTrainer) -> Vec<u32> {
    bits(&t.non_trainable_weights().unwrap().values)
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("keras-round-trip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

/// The restored trainer predicts as the saved one, bit for bit, and (when `trains_on`) two more
/// epochs of each end on the same weights, statistics and losses.
fn assert_restored(saved: &mut NetTrainer, restored: &mut NetTrainer, trains_on: bool) {
    assert_ne!(
        bits(&saved.weights().values),
        bits(&trainer(2).weights().values),
        "the restored trainer started elsewhere"
    );
    assert_eq!(predictions(restored), predictions(saved), "predictions");
    assert_eq!(moving_statistics(restored), moving_statistics(saved));
    if trains_on {
        let a = train(saved, 3, 5);
        let b = train(restored, 3, 5);
        assert_eq!(bits(&b.history["loss"]), bits(&a.history["loss"]));
        assert_eq!(
            bits(&restored.weights().values),
            bits(&saved.weights().values)
        );
        assert_eq!(moving_statistics(restored), moving_statistics(saved));
        assert_eq!(
            restored.optimizer().iterations(),
            saved.optimizer().iterations()
        );
    }
}

#[test]
fn save_weights_and_load_weights_give_the_same_predictions() {
    let mut saved = trained();
    let path = temp("weights.safetensors");
    saved.save_weights(&path).unwrap();
    let mut restored = trainer(2);
    restored.load_weights(&path).unwrap();
    // The optimizer's state is not in a weights file (as Keras's save_weights).
    assert_eq!(restored.optimizer().iterations(), 0);
    assert_restored(&mut saved, &mut restored, false);
}

#[test]
fn save_checkpoint_and_load_checkpoint_continue_training_bit_for_bit() {
    let mut saved = trained();
    let path = temp("checkpoint.safetensors");
    saved.save_checkpoint(&path).unwrap();
    let mut restored = trainer(2);
    restored.load_checkpoint(&path).unwrap();
    assert_restored(&mut saved, &mut restored, true);
}

#[test]
fn a_full_model_checkpoint_continues_training_bit_for_bit() {
    let path = temp("model-checkpoint.safetensors");
    let mut saved = trainer(1);
    saved
        .fit(&data())
        .epochs(3)
        .batch_size(8)
        .shuffle(Shuffle::Full)
        .seed(5)
        .verbose(0)
        .callbacks(ModelCheckpoint::new(&path).unwrap())
        .run()
        .unwrap();
    let mut restored = trainer(2);
    restored.load_checkpoint(&path).unwrap();
    assert_restored(&mut saved, &mut restored, true);
}

#[test]
fn a_weights_only_model_checkpoint_gives_the_same_predictions() {
    let path = temp("weights-only-checkpoint.safetensors");
    let mut saved = trainer(1);
    saved
        .fit(&data())
        .epochs(3)
        .batch_size(8)
        .verbose(0)
        .callbacks(
            ModelCheckpoint::new(&path)
                .unwrap()
                .with_save_weights_only(true),
        )
        .run()
        .unwrap();
    let mut restored = trainer(2);
    restored.load_weights(&path).unwrap();
    assert_restored(&mut saved, &mut restored, false);
    // A full restore from it is refused, and changes nothing.
    let mut other = trainer(2);
    let before = bits(&other.weights().values);
    let err = other.load_checkpoint(&path).unwrap_err();
    assert!(
        matches!(&err, Error::Checkpoint { reason, .. } if reason.contains("weights only")),
        "{err}"
    );
    assert_eq!(bits(&other.weights().values), before);
}

#[test]
fn a_keras_weights_file_continues_training_bit_for_bit() {
    let mut saved = trained();
    let path = temp("net.weights.h5");
    saved.save_keras_weights(&path).unwrap();
    let mut restored = trainer(2);
    assert!(restored.load_keras_weights(&path).unwrap().optimizer);
    assert_restored(&mut saved, &mut restored, true);
}

#[test]
fn a_keras_archive_continues_training_bit_for_bit() {
    let mut saved = trained();
    let path = temp("net.keras");
    saved.save_keras(&path).unwrap();
    let mut restored = trainer(2);
    assert!(restored.load_keras_weights(&path).unwrap().optimizer);
    assert_restored(&mut saved, &mut restored, true);
}

#[test]
fn a_checkpoint_of_another_optimizer_state_is_refused_and_changes_nothing() {
    let mut saved = trained();
    let path = temp("sgd-checkpoint.safetensors");
    saved.save_checkpoint(&path).unwrap();
    // Same model, another optimizer: Adam's slots do not fit an SGD with momentum.
    let dev = test_device(2);
    let mut other = Trainer::compile(
        Net::<f32, TestDevice>::build(&dev),
        Sgd::new().with_momentum(0.9).build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap();
    let before = bits(&other.weights().values);
    let stats = bits(&other.non_trainable_weights().unwrap().values);
    let err = other.load_checkpoint(&path).unwrap_err();
    assert!(matches!(&err, Error::Checkpoint { .. }), "{err}");
    assert_eq!(bits(&other.weights().values), before);
    assert_eq!(bits(&other.non_trainable_weights().unwrap().values), stats);
}
