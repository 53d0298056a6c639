//! Models moving between Keras and Rust through Keras's own files.
//!
//! 1. Trains a small classifier (Dense → BatchNormalization → Dense, Adam, sparse categorical
//!    crossentropy from logits; metrics `"accuracy"` and `SparseCategoricalAccuracy`, weighted
//!    metric `SparseTopKCategoricalAccuracy(k=2)`) on the Iris data and saves it as `model.keras` (Keras's
//!    `model.save`: architecture, compile config, weights, optimizer state) and
//!    `model.weights.h5` (Keras's `model.save_weights`), plus `predictions.json` (inputs and
//!    what this model predicts).
//! 2. Loads the `.keras` file back into a fresh model, which predicts the same.
//! 3. Saves an untrained convnet (Conv2D, BatchNormalization, MaxPooling2D, Flatten, Dense) as
//!    `convnet.keras`, with `convnet.json` (inputs and predictions).
//! 4. Saves an adapted Normalization → Dense model as `normalized.keras`, with
//!    `normalized.json` (inputs and predictions).
//! 5. Loads a model Keras 3 made (`tests/fixtures/keras/files/mlp.weights.h5`) into a typed
//!    model and prints its predictions.
//!
//! In Python (`pip install keras jax h5py`), the files load with no code of ours:
//!
//! ```python
//! model = keras.saving.load_model("model.keras")   # rebuilt and compiled
//! model.predict(x)                                 # what Rust predicted
//! model.fit(x, y)                                  # continues from the saved Adam state
//! ```
//!
//! `scripts/keras-interop-check.py` does exactly that and compares the numbers.
//!
//! Run: `cargo run --release --example keras_interop [-- --out DIR]` (default: a temporary
//! directory).

use keras::data::loaders::{CsvData, CsvHeader, CsvOptions};
use keras::dfdx::nn::DeviceBuildExt;
use keras::layers::{Conv2D, MaxPool2D, Normalization};
use keras::persist::keras as keras_files;
use keras::prelude::*;

#[derive(Sequential)]
struct IrisClassifier<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 16, ReLU, E, D>,
    norm: BatchNormalization<16, E, D>,
    logits: Dense<16, 3, Linear, E, D>,
}

fn out_dir() -> std::path::PathBuf {
    let args: Vec<String> = std::env::args().collect();
    match args.iter().position(|a| a == "--out") {
        Some(i) => args.get(i + 1).map(Into::into).unwrap_or_default(),
        None => std::env::temp_dir().join(format!("keras-interop-{}", std::process::id())),
    }
}

fn main() -> keras::Result<()> {
    let out = out_dir();
    std::fs::create_dir_all(&out).map_err(|e| keras::Error::Io {
        path: out.clone(),
        source: e,
    })?;
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/iris.csv");
    let iris = CsvData::from_path(path, &CsvOptions::new().with_header(CsvHeader::SklearnMeta))?;
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(iris.features.clone(), iris.labels.clone())?;

    let compile = |seed| -> keras::Result<_> {
        let dev = Cpu::seed_from_u64(seed);
        let trainer = Trainer::compile(
            IrisClassifier::<f32, Cpu>::build(&dev),
            Adam::new().with_learning_rate(0.01).build()?,
            losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
            (
                metrics::ResolvedAccuracy::<Sparse>::default(),
                metrics::SparseCategoricalAccuracy::default(),
            ),
            &dev,
        )?;
        Ok(trainer.with_weighted_metrics((metrics::SparseTopKCategoricalAccuracy::<2>::new()?,)))
    };

    // 1. Train and save in Keras's formats.
    let mut trainer = compile(0)?;
    let history = trainer
        .fit(&data)
        .epochs(20)
        .batch_size(16)
        .verbose(0)
        .run()?;
    println!(
        "trained 20 epochs: loss {:.4}, accuracy {:.3}",
        history.get("loss").map_or(f32::NAN, |l| l[l.len() - 1]),
        history
            .get("sparse_categorical_accuracy")
            .map_or(f32::NAN, |a| a[a.len() - 1]),
    );
    let keras_path = out.join("model.keras");
    trainer.save_keras(&keras_path)?;
    trainer.save_keras_weights(out.join("model.weights.h5"))?;
    let predictions = trainer.predict(&data).run()?;
    let json = serde_json::json!({
        "x": iris.features,
        "y": iris.labels,
        "x_shape": [iris.num_rows, 4],
        "predictions": predictions,
    });
    std::fs::write(out.join("predictions.json"), json.to_string()).map_err(|e| {
        keras::Error::Io {
            path: out.join("predictions.json"),
            source: e,
        }
    })?;
    println!("wrote {}", keras_path.display());

    // 2. Back into a fresh model.
    let mut restored = compile(1)?;
    let loaded = restored.load_keras_weights(&keras_path)?;
    assert!(loaded.optimizer, "the Adam state is in the file");
    assert_eq!(restored.predict(&data).run()?, predictions);
    println!(
        "reloaded {}: same predictions, Adam state at step {}",
        keras_path.display(),
        restored.optimizer().iterations()
    );

    // 3. A convnet (Conv2D, BatchNormalization, pooling) as a tuple model, untrained.
    let dev = Cpu::seed_from_u64(2);
    let mut convnet = Trainer::compile(
        dev.build_module::<(
            Conv2D<2, 4, 3, 4, 4, 1, 0, ReLU>,
            BatchNormalization<4>,
            MaxPool2D<2, 2, 2>,
            Flatten<16>,
            Dense<16, 2>,
        ), f32>(),
        Adam::new().build()?,
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )?;
    let images: Vec<f32> = (0..3 * 6 * 6 * 2)
        .map(|i| ((i * 37 % 101) as f32 - 50.0) / 25.0)
        .collect();
    let image_data =
        ArrayDataset::<Rank3<6, 6, 2>, DenseTarget<2>>::new(images.clone(), vec![0.0; 6])?;
    convnet.save_keras(out.join("convnet.keras"))?;
    let conv_predictions = convnet.predict(&image_data).run()?;
    let json =
        serde_json::json!({"x": images, "x_shape": [3, 6, 6, 2], "predictions": conv_predictions});
    std::fs::write(out.join("convnet.json"), json.to_string()).map_err(|e| keras::Error::Io {
        path: out.join("convnet.json"),
        source: e,
    })?;

    // 4. An adapted Normalization before a Dense layer.
    let dev = Cpu::seed_from_u64(3);
    let mut normalized = dev.build_module::<(Normalization<4>, Dense<4, 3>), f32>();
    normalized.0.adapt(&data)?;
    let mut normalized = Trainer::compile(
        normalized,
        Sgd::new().with_learning_rate(0.01).build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (metrics::ResolvedAccuracy::<Sparse>::default(),),
        &dev,
    )?;
    normalized.save_keras(out.join("normalized.keras"))?;
    let json = serde_json::json!({"predictions": normalized.predict(&data).run()?});
    std::fs::write(out.join("normalized.json"), json.to_string()).map_err(|e| {
        keras::Error::Io {
            path: out.join("normalized.json"),
            source: e,
        }
    })?;

    // 5. A model Keras made.
    let dev = Cpu::default();
    let mut mlp = dev.build_module::<(Dense<4, 8, ReLU>, Dense<8, 3>), f32>();
    keras_files::load_weights(
        &mut mlp,
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/keras/files/mlp.weights.h5"
        ),
    )?;
    let x = dev.tensor_from_vec(iris.features[..8].to_vec(), (2usize, Const::<4>));
    println!(
        "Keras-made MLP on two Iris rows: {:?}",
        mlp.forward(x).as_vec()
    );
    Ok(())
}
