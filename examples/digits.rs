//! Handwritten digits (UCI, 8x8 images) with a two-layer MLP, the Keras recipe:
//!
//! ```python
//! model = keras.Sequential([keras.Input((64,)), layers.Dense(64, activation="relu"), layers.Dense(10)])
//! model.compile(optimizer=keras.optimizers.Adam(1e-3),
//!               loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
//!               metrics=["accuracy"])
//! model.fit(x[:1437], y[:1437], batch_size=32, epochs=30, verbose=2)
//! model.evaluate(x[1437:], y[1437:])
//! ```
//!
//! Run: `cargo run --release --example digits [-- --seed N] [--epochs N]`.
//! Pixels (0..16) are divided by 16; the first 1437 rows train, the last 360 test.
//!
//! Data-parallel over MPI (Keras's `DataParallel`; see the README):
//! `mpiexec -n 2 cargo run --release --features mpi --example digits -- --data-parallel`.
//! Each process trains on its half of every batch of 32; process 0 prints.

use keras::data::loaders::{CsvData, CsvHeader, CsvOptions};
use keras::prelude::*;

#[path = "common/args.rs"]
mod args;

use args::arg;

#[derive(Sequential)]
struct DigitsMlp<E: Dtype, D: Device<E>> {
    hidden: Dense<64, 64, ReLU, E, D>,
    logits: Dense<64, 10, Linear, E, D>,
}

const TRAIN_ROWS: usize = 1437;

fn main() -> keras::Result<()> {
    // The matrix products run partly on this thread (see the README's "Speed"); an error only
    // means rayon's pool existed already, and training works the same.
    let _ = keras::kernels::use_current_thread_in_pool();
    let seed = arg("--seed").unwrap_or(0);
    let epochs = arg("--epochs").unwrap_or(30) as usize;
    let data_parallel = std::env::args().any(|a| a == "--data-parallel");
    #[cfg(feature = "mpi")]
    let dist = match data_parallel {
        true => Some(keras::distribution::DataParallel::from_env()?),
        false => None,
    };
    #[cfg(feature = "mpi")]
    let chief = dist.as_ref().is_none_or(|d| {
        use keras::distribution::Distribution;
        d.is_chief()
    });
    #[cfg(not(feature = "mpi"))]
    let chief = if data_parallel {
        return Err(keras::Error::invalid(
            "--data-parallel",
            "needs MPI: build with `--features mpi` and run under `mpiexec -n N`",
        ));
    } else {
        true
    };

    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/digits.csv.gz");
    let options = CsvOptions::new()
        .with_header(CsvHeader::Absent)
        .with_feature_scale(1.0 / 16.0);
    let digits = CsvData::from_path(path, &options)?;
    let split = TRAIN_ROWS * digits.num_features;
    let (x_train, x_test) = digits.features.split_at(split);
    let (y_train, y_test) = digits.labels.split_at(TRAIN_ROWS);
    let train = ArrayDataset::<Rank1<64>, Sparse>::new(x_train.to_vec(), y_train.to_vec())?;
    let test = ArrayDataset::<Rank1<64>, Sparse>::new(x_test.to_vec(), y_test.to_vec())?;
    if chief {
        println!(
            "digits: {} train / {} test samples, {} features, seed {seed}",
            train.len(),
            test.len(),
            digits.num_features
        );
    }

    let dev = Cpu::seed_from_u64(seed);
    let model = DigitsMlp::<f32, Cpu>::build(&dev);
    let mut trainer = Trainer::compile(
        model,
        Adam::new().with_learning_rate(1e-3).build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (metrics::ResolvedAccuracy::default(),),
        &dev,
    )?;
    let fit = trainer
        .fit(&train)
        .epochs(epochs)
        .batch_size(32)
        .shuffle(Shuffle::Full)
        .seed(seed)
        .verbose(2);
    #[cfg(feature = "mpi")]
    match &dist {
        Some(d) => fit.distribution(d).run()?,
        None => fit.run()?,
    };
    #[cfg(not(feature = "mpi"))]
    fit.run()?;

    let logs = trainer.evaluate(&test).batch_size(32).run()?;
    let loss = logs.get("loss").unwrap_or(f32::NAN);
    let accuracy = logs.get("accuracy").unwrap_or(f32::NAN);
    if chief {
        println!("test loss {loss:.4} - test accuracy {accuracy:.4}");
    }
    Ok(())
}
