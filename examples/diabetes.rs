//! Diabetes (Efron et al., 2004): regression of disease progression after one year from ten
//! baseline measurements, with MSE loss and an MAE metric.
//!
//! The Keras equivalent:
//!
//! ```python
//! model = keras.Sequential([keras.Input((10,)), layers.Dense(32, activation="relu"), layers.Dense(1)])
//! model.compile(optimizer=keras.optimizers.Adam(5e-2), loss="mse", metrics=["mae"])
//! model.fit(x_train, y_train, batch_size=32, epochs=100, verbose=0)
//! model.evaluate(x_test, y_test)
//! ```
//!
//! Run: `cargo run --release --example diabetes [-- --seed N] [--epochs N]`.
//!
//! The raw file is space separated without a header (age, sex, bmi, bp, s1..s6); the target
//! (25..346) comes from a second file and stays in its own units, so the MAE reads in them.
//! Rows are permuted with a seeded RNG and split 353 / 89 (80 / 20) into train and test; the
//! features are standardised with the training rows' mean and standard deviation.

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
struct Regressor<E: Dtype, D: Device<E>> {
    hidden: Dense<10, 32, ReLU, E, D>,
    out: Dense<32, 1, Linear, E, D>,
}

/// The columns of `diabetes_data_raw.csv.gz` (the file has no header).
const FEATURES: [&str; 10] = [
    "age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6",
];

fn main() -> keras::Result<()> {
    let seed = arg("--seed").unwrap_or(0);
    let epochs = arg("--epochs").unwrap_or(100) as usize;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/data");
    let raw = CsvOptions::new()
        .with_header(CsvHeader::Absent)
        .without_label();
    let x = CsvData::from_path(
        format!("{dir}/diabetes_data_raw.csv.gz"),
        &raw.clone().with_delimiter(b' '),
    )?;
    let y = CsvData::from_path(format!("{dir}/diabetes_target.csv.gz"), &raw)?;
    let f = x.num_features;

    let mut order: Vec<usize> = (0..x.num_rows).collect();
    order.shuffle(&mut StdRng::seed_from_u64(seed));
    let (train_rows, test_rows) = order.split_at(x.num_rows * 4 / 5);
    let gather = |rows: &[usize]| -> (Vec<f32>, Vec<f32>) {
        let xs = rows
            .iter()
            .flat_map(|&r| x.features[r * f..(r + 1) * f].to_vec())
            .collect();
        let ys = rows.iter().map(|&r| y.features[r]).collect();
        (xs, ys)
    };
    let (mut x_train, y_train) = gather(train_rows);
    let (mut x_test, y_test) = gather(test_rows);
    standardise_by_train(&mut x_train, &mut x_test, f);
    let baseline = mean_abs_dev(&y_train, &y_test);
    let train = ArrayDataset::<Rank1<10>, DenseTarget<1>>::new(x_train, y_train)?;
    let test = ArrayDataset::<Rank1<10>, DenseTarget<1>>::new(x_test, y_test)?;
    println!(
        "diabetes: {} train / {} test samples, features {FEATURES:?}",
        train.len(),
        test.len()
    );

    let dev = Cpu::seed_from_u64(seed);
    let mut trainer = Trainer::compile(
        Regressor::<f32, Cpu>::build(&dev),
        Adam::new().with_learning_rate(5e-2).build()?,
        losses::MeanSquaredError::default(),
        (metrics::MeanAbsoluteError::default(),),
        &dev,
    )?;
    let history = trainer
        .fit(&train)
        .epochs(epochs)
        .batch_size(32)
        .seed(seed)
        .verbose(0)
        .run()?;
    let (loss, mae) = (history.get("loss"), history.get("mae"));
    for e in (0..epochs).filter(|e| (e + 1) % 10 == 0 || *e == 0) {
        let at = |v: Option<&[f32]>| v.and_then(|v| v.get(e).copied()).unwrap_or(f32::NAN);
        println!(
            "epoch {:>3}: loss {:9.2} - mae {:6.2}",
            e + 1,
            at(loss),
            at(mae)
        );
    }

    let logs = trainer.evaluate(&test).run()?;
    let mse = logs.get("loss").unwrap_or(f32::NAN);
    let mae = logs.get("mae").unwrap_or(f32::NAN);
    println!(
        "test mse {mse:.2} - test mae {mae:.2} (predicting the training mean: mae {baseline:.2})"
    );
    Ok(())
}

/// The test MAE of always predicting the training targets' mean: the bar to beat.
fn mean_abs_dev(train: &[f32], test: &[f32]) -> f32 {
    let mean = train.iter().sum::<f32>() / train.len() as f32;
    test.iter().map(|t| (t - mean).abs()).sum::<f32>() / test.len() as f32
}
