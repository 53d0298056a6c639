//! Iris (Fisher, 1936): a small classifier with `validation_split` and `EarlyStopping`.
//!
//! The Keras equivalent:
//!
//! ```python
//! model = keras.Sequential([keras.Input((4,)), layers.Dense(16, activation="relu"), layers.Dense(3)])
//! model.compile(optimizer=keras.optimizers.Adam(1e-2),
//!               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
//!               metrics=["accuracy"])
//! stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
//! model.fit(x_train, y_train, batch_size=16, epochs=200, validation_split=0.2, callbacks=[stop])
//! model.evaluate(x_test, y_test)
//! ```
//!
//! Run: `cargo run --release --example iris [-- --seed N]`.
//!
//! `iris.csv` lists the classes in order (50 setosa, then versicolor, then virginica), and Keras's
//! `validation_split` takes the *tail* of the data before any shuffling; so the rows are first
//! permuted with a seeded RNG, then split 120 / 30 into train and test. Features are
//! standardised with the training rows' mean and standard deviation.

use keras::data::loaders::{CsvData, CsvHeader, CsvOptions};
use keras::prelude::*;
use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};

#[path = "common/args.rs"]
mod args;
#[path = "common/standardise.rs"]
mod standardise;

use args::arg;
use standardise::standardise_by_train;

#[derive(Sequential)]
struct IrisMlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 16, ReLU, E, D>,
    logits: Dense<16, 3, Linear, E, D>,
}

const TEST_ROWS: usize = 30;

fn main() -> keras::Result<()> {
    let seed = arg("--seed").unwrap_or(0);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let iris = CsvData::from_path(path, &CsvOptions::new().with_header(CsvHeader::SklearnMeta))?;
    let f = iris.num_features;

    let mut order: Vec<usize> = (0..iris.num_rows).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let (test_rows, train_rows) = order.split_at(TEST_ROWS);
    let gather = |rows: &[usize]| -> (Vec<f32>, Vec<f32>) {
        let x = rows
            .iter()
            .flat_map(|&r| iris.features[r * f..(r + 1) * f].to_vec())
            .collect();
        let y = rows.iter().map(|&r| iris.labels[r]).collect();
        (x, y)
    };
    let (mut x_train, y_train) = gather(train_rows);
    let (mut x_test, y_test) = gather(test_rows);
    standardise_by_train(&mut x_train, &mut x_test, f);
    let train = ArrayDataset::<Rank1<4>, Sparse>::new(x_train, y_train)?;
    let test = ArrayDataset::<Rank1<4>, Sparse>::new(x_test, y_test)?;
    println!(
        "iris: {} train (20% of them held out for validation) / {} test samples, classes {:?}",
        train.len(),
        test.len(),
        iris.class_names
    );

    let dev = Cpu::seed_from_u64(seed);
    let mut trainer = Trainer::compile(
        IrisMlp::<f32, Cpu>::build(&dev),
        Adam::new().with_learning_rate(1e-2).build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (metrics::ResolvedAccuracy::default(),),
        &dev,
    )?;
    let mut stop = EarlyStopping::new()
        .with_monitor("val_loss")
        .with_patience(10)
        .with_restore_best_weights(true)
        .with_verbose(1);
    let history = trainer
        .fit(&train)
        .epochs(200)
        .batch_size(16)
        .validation_split(0.2)
        .seed(seed)
        .verbose(2)
        .callbacks(&mut stop)
        .run()?;

    let best = stop.best_epoch();
    let at_best = |key: &str| {
        history
            .get(key)
            .and_then(|v| v.get(best).copied())
            .unwrap_or(f32::NAN)
    };
    println!(
        "{} of 200 epochs ran; best epoch {}: val_loss {:.4} - val_accuracy {:.4}",
        history.epochs.len(),
        best + 1,
        at_best("val_loss"),
        at_best("val_accuracy")
    );
    let logs = trainer.evaluate(&test).run()?;
    let loss = logs.get("loss").unwrap_or(f32::NAN);
    let accuracy = logs.get("accuracy").unwrap_or(f32::NAN);
    println!("test loss {loss:.4} - test accuracy {accuracy:.4}");
    Ok(())
}
