//! Every path that saves or restores a model keeps BatchNormalization's moving statistics with
//! its weights: `ModelCheckpoint` + `Trainer::load_weights`, `Trainer::save_weights`, and
//! `EarlyStopping(restore_best_weights)`. A model restored without them predicts differently
//! (inference normalises with the moving statistics), so each test compares predictions bit for
//! bit, and a file without them is refused rather than half-loaded.

mod common;

use common::{test_device, TestDevice};
use keras_core::callbacks::{Callback, CallbackContext, EarlyStopping, Mode, ModelCheckpoint};
use keras_core::data::ArrayDataset;
use keras_core::dfdx::prelude::*;
use keras_core::layers::{BatchNormalization, Dense, ReLU};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::optimizers::{Adam, KerasOptimizer};
use keras_core::persist::save_checkpoint;
use keras_core::target::Sparse;
use keras_core::{Error, Trainer};

type BnNet = (Dense<4, 8, ReLU>, BatchNormalization<8>, Dense<8, 3>);
type BnTrainer = Trainer<
    <BnNet as BuildOnDevice<TestDevice, f32>>::Built,
    KerasOptimizer<Adam>,
    SparseCategoricalCrossentropy,
    (),
    (),
    TestDevice,
>;

fn trainer(seed: u64) -> BnTrainer {
    let dev = test_device(seed);
    Trainer::compile(
        dev.build_module::<BnNet, f32>(),
        Adam::new().with_learning_rate(0.02).build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap()
}

fn data() -> ArrayDataset<Rank1<4>, Sparse> {
    let x = (0..4 * 24)
        .map(|i| ((i * 7 % 11) as f32 - 5.0) / 3.0)
        .collect();
    let y = (0..24).map(|i| (i % 3) as f32).collect();
    ArrayDataset::new(x, y).unwrap()
}

fn temp(name: &str) -> std::path::PathBuf {
    let dir =
        std::env::temp_dir().join(format!("keras-moving-stats-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn a_model_checkpoint_restores_a_model_that_predicts_as_the_saved_one() {
    let dir = temp("checkpoint");
    let path = dir.join("model.safetensors");
    let mut trained = trainer(1);
    let mut checkpoint = ModelCheckpoint::new(&path).unwrap();
    trained
        .fit(&data())
        .epochs(3)
        .batch_size(8)
        .verbose(0)
        .callbacks(&mut checkpoint)
        .run()
        .unwrap();
    let mut restored = trainer(2);
    assert_ne!(
        bits(&restored.predict(&data()).run().unwrap()),
        bits(&trained.predict(&data()).run().unwrap())
    );
    restored.load_weights(&path).unwrap();
    assert_eq!(
        bits(&restored.predict(&data()).run().unwrap()),
        bits(&trained.predict(&data()).run().unwrap()),
        "same weights and moving statistics, same predictions"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn save_weights_and_load_weights_round_trip_the_moving_statistics() {
    let dir = temp("save");
    let path = dir.join("weights.safetensors");
    let mut trained = trainer(1);
    trained
        .fit(&data())
        .epochs(2)
        .batch_size(8)
        .verbose(0)
        .run()
        .unwrap();
    trained.save_weights(&path).unwrap();
    let mut restored = trainer(3);
    restored.load_weights(&path).unwrap();
    assert_eq!(
        bits(&restored.predict(&data()).run().unwrap()),
        bits(&trained.predict(&data()).run().unwrap())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_file_without_the_moving_statistics_is_refused_and_changes_nothing() {
    let dir = temp("refused");
    let path = dir.join("trainable-only.safetensors");
    let mut trained = trainer(1);
    trained
        .fit(&data())
        .epochs(1)
        .batch_size(8)
        .verbose(0)
        .run()
        .unwrap();
    save_checkpoint(&path, trained.weights(), None).unwrap();
    let mut other = trainer(4);
    let before = bits(&other.predict(&data()).run().unwrap());
    let err = other.load_weights(&path).unwrap_err();
    assert!(
        matches!(&err, Error::Checkpoint { reason, .. } if reason.contains("non_trainable/")),
        "{err}"
    );
    assert_eq!(bits(&other.predict(&data()).run().unwrap()), before);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The weights and moving statistics at the end of epoch 0.
#[derive(Default)]
struct FirstEpoch {
    weights: Vec<f32>,
    stats: Vec<f32>,
}

impl Callback for FirstEpoch {
    fn on_epoch_end<C: CallbackContext>(
        &mut self,
        epoch: usize,
        ctx: &mut C,
    ) -> keras_core::Result<()> {
        if epoch == 0 {
            self.stats = ctx.non_trainable_weights()?.values;
            self.weights = ctx.weights()?.values.clone();
        }
        Ok(())
    }
}

#[test]
fn restore_best_weights_restores_the_best_epochs_moving_statistics_too() {
    let fit = |restore: bool| {
        let mut t = trainer(1);
        let mut first = FirstEpoch::default();
        // The loss falls, so in `max` mode the first epoch stays the best.
        let mut stop = EarlyStopping::new()
            .with_monitor("loss")
            .with_mode(Mode::Max)
            .with_patience(10)
            .with_restore_best_weights(restore);
        t.fit(&data())
            .epochs(4)
            .batch_size(8)
            .verbose(0)
            .callbacks((&mut first, &mut stop))
            .run()
            .unwrap();
        let stats = t.non_trainable_weights().unwrap().values;
        (t.weights().values.clone(), stats, first)
    };
    let (_, last_stats, first) = fit(false);
    assert_ne!(
        bits(&last_stats),
        bits(&first.stats),
        "the statistics move after the first epoch"
    );
    let (weights, stats, first) = fit(true);
    assert_eq!(bits(&weights), bits(&first.weights));
    assert_eq!(
        bits(&stats),
        bits(&first.stats),
        "the best epoch's statistics, not the last epoch's"
    );
}

/// A model that starts with an adapted `Normalization`: its statistics are non-trainable state
/// like the moving statistics, so `save_weights`/`load_weights` carry them, and training leaves
/// them as adapted.
#[test]
fn a_normalization_layers_adapted_statistics_are_saved_and_not_trained() {
    use keras_core::layers::Normalization;
    type NormNet = (Normalization<4>, Dense<4, 3>);
    let compile = |seed: u64| {
        let dev = test_device(seed);
        Trainer::compile(
            dev.build_module::<NormNet, f32>(),
            Adam::new().with_learning_rate(0.02).build().unwrap(),
            SparseCategoricalCrossentropy::default().with_from_logits(true),
            (),
            &dev,
        )
        .unwrap()
    };
    let dir = temp("normalization");
    let path = dir.join("weights.safetensors");
    let mut trained = compile(1);
    let features = ArrayDataset::<Rank1<4>, _>::features(data().x().to_vec()).unwrap();
    trained.model_mut().0.adapt(&features).unwrap();
    trained.sync_weights().unwrap();
    let adapted = (
        trained.model().0.mean.as_vec(),
        trained.model().0.variance.as_vec(),
    );
    assert!(adapted.1.iter().all(|&v| v > 0.5), "{adapted:?}");
    trained
        .fit(&data())
        .epochs(2)
        .batch_size(8)
        .verbose(0)
        .run()
        .unwrap();
    assert_eq!(trained.model().0.mean.as_vec(), adapted.0);
    assert_eq!(trained.model().0.variance.as_vec(), adapted.1);
    trained.save_weights(&path).unwrap();
    let mut restored = compile(3);
    restored.load_weights(&path).unwrap();
    assert_eq!(restored.model().0.mean.as_vec(), adapted.0);
    assert_eq!(
        bits(&restored.predict(&data()).run().unwrap()),
        bits(&trained.predict(&data()).run().unwrap())
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
