//! `ModelCheckpoint(save_best_only, monitor="val_loss")` with `EarlyStopping` on the UCI digits
//! data: the best checkpoint reloads into a fresh trainer and evaluates to the best logged
//! `val_loss`.

use std::path::PathBuf;

use dfdx::prelude::*;
use keras_core::callbacks::{EarlyStopping, ModelCheckpoint};
use keras_core::data::loaders::{CsvData, CsvOptions};
use keras_core::data::{split_validation, ArrayDataset, Shuffle};
use keras_core::layers::{Dense, ReLU};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::ResolvedAccuracy;
use keras_core::optimizers::Adam;
use keras_core::persist::load_weights;
use keras_core::target::Sparse;
use keras_core::Trainer;

type Net = (Dense<64, 32, ReLU>, Dense<32, 10>);

fn digits() -> ArrayDataset<Rank1<64>, Sparse> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/digits.csv.gz");
    let options = CsvOptions::new()
        .with_has_header(false)
        .with_feature_scale(1.0 / 16.0);
    let csv = CsvData::from_path(path, &options).unwrap();
    assert_eq!((csv.num_rows, csv.num_features), (1797, 64));
    ArrayDataset::new(csv.features, csv.labels).unwrap()
}

fn compile(
    seed: u64,
) -> Trainer<
    Net,
    keras_core::optimizers::KerasOptimizer<Adam>,
    SparseCategoricalCrossentropy,
    (ResolvedAccuracy<Sparse>,),
> {
    let dev = Cpu::seed_from_u64(seed);
    Trainer::compile(
        dev.build_module::<Net, f32>(),
        Adam::new().with_learning_rate(0.003).build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (ResolvedAccuracy::<Sparse>::default(),),
        &dev,
    )
    .unwrap()
}

#[test]
fn the_best_checkpoint_reloads_to_the_best_logged_val_loss() {
    let data = digits();
    let dir = std::env::temp_dir().join(format!("keras-digits-ckpt-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("best.safetensors");
    let mut checkpoint = ModelCheckpoint::new(&path)
        .unwrap()
        .with_monitor("val_loss")
        .with_save_best_only(true);
    let mut early = EarlyStopping::new()
        .with_monitor("val_loss")
        .with_patience(1);

    let mut trainer = compile(1);
    let history = trainer
        .fit(&data)
        .epochs(5)
        .batch_size(32)
        .shuffle(Shuffle::Full)
        .validation_split(0.2)
        .verbose(0)
        .callbacks((&mut checkpoint, &mut early))
        .run()
        .unwrap();

    let val_loss = history.get("val_loss").unwrap();
    let best = val_loss.iter().copied().fold(f32::INFINITY, f32::min);
    assert!(val_loss[0] > best, "training should improve: {val_loss:?}");
    assert_eq!(checkpoint.best(), Some(best as f64));
    assert_eq!(checkpoint.last_saved(), Some(path.as_path()));
    assert_eq!(early.best(), Some(best));

    // A fresh trainer (other initial weights) with the saved best weights.
    let mut fresh = compile(99);
    assert_ne!(fresh.weights().values, trainer.weights().values);
    let values = load_weights(&path, fresh.weights()).unwrap();
    fresh.set_weights(&values).unwrap();
    let (_, validation) = split_validation(&data, 0.2).unwrap();
    let logs = fresh
        .evaluate(&validation)
        .batch_size(32)
        .verbose(0)
        .run()
        .unwrap();
    let reloaded = logs.get("loss").unwrap();
    assert!(
        (reloaded - best).abs() <= 1e-5,
        "reloaded val_loss {reloaded} vs best logged {best} ({val_loss:?})"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
