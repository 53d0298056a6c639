//! `GlobalAveragePooling1D`: Keras's text-classification head (Embedding → GlobalAveragePooling1D
//! → Dense) trains as Keras 3.15.1 trains it (`tests/fixtures/keras/embedding_pooling_fit.json`,
//! made by `make_embedding_pooling_fit.py`), pools as Keras pools, and describes itself to
//! Keras's files and `summary()` as Keras does.
//!
//! Training and pooling run on [`TestDevice`] (`Cuda` with the `cuda` feature), at the
//! fixture's tolerances times [`DEVICE_TOL_FACTOR`].

mod common;

use common::{floats, test_device, TestDevice, DEVICE_TOL_FACTOR};
use keras_core::layers::{Embedding, GlobalAveragePooling1D, KerasLayers};
use keras_core::metrics::ResolvedAccuracy;
use keras_core::prelude::*;
use serde_json::Value;

#[derive(Sequential)]
struct PooledText<E: Dtype, D: Device<E>> {
    embed: Embedding<12, 5, E, D>,
    pool: GlobalAveragePooling1D,
    logits: Dense<5, 3, Linear, E, D>,
}

fn fixture() -> Value {
    common::json("embedding_pooling_fit.json")
}

fn assert_close(got: &[f32], want: &[f32], tolerance: f32, what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            f64::from((g - w).abs())
                <= f64::from(tolerance) * DEVICE_TOL_FACTOR * f64::from(1.0 + w.abs()),
            "{what}[{i}]: {g} vs Keras {w}"
        );
    }
}

#[test]
fn the_text_head_trains_as_keras_trains_it() {
    let f = fixture();
    assert_eq!(
        (
            f["input_dim"].as_u64(),
            f["output_dim"].as_u64(),
            f["length"].as_u64()
        ),
        (Some(12), Some(5), Some(7)),
        "the model below is the fixture's"
    );
    let dev = test_device(0);
    let mut model = PooledText::<f32, TestDevice>::build(&dev);
    let w = &f["initial_weights"];
    model.embed.set_weights(&floats(&w[0])).unwrap();
    model
        .logits
        .set_weights(&floats(&w[1]), &floats(&w[2]))
        .unwrap();
    let mut trainer = Trainer::compile(
        model,
        Adam::new()
            .with_learning_rate(f["learning_rate"].as_f64().unwrap() as f32)
            .build()
            .unwrap(),
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (ResolvedAccuracy::<Sparse>::default(),),
        &dev,
    )
    .unwrap();
    let data =
        ArrayDataset::<Rank1<7>, Sparse>::new(floats(&f["ids"]), floats(&f["labels"])).unwrap();
    let history = trainer
        .fit(&data)
        .epochs(f["epochs"].as_u64().unwrap() as usize)
        .batch_size(f["batch_size"].as_u64().unwrap() as usize)
        .shuffle(Shuffle::None)
        .verbose(0)
        .run()
        .unwrap();
    assert_close(
        history.get("loss").unwrap(),
        &floats(&f["loss"]),
        1e-5,
        "loss",
    );
    assert_close(
        history.get("accuracy").unwrap(),
        &floats(&f["accuracy"]),
        1e-6,
        "accuracy",
    );
    let want: Vec<f32> = f["final_weights"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(floats)
        .collect();
    assert_close(&trainer.weights().values, &want, 1e-5, "final weights");
    let predictions = trainer.predict(&data).run().unwrap();
    assert_close(
        &predictions,
        &floats(&f["predictions"]),
        1e-5,
        "predictions",
    );
}

#[test]
fn pooling_is_the_mean_over_the_steps_as_keras_computes_it() {
    // Keras's pooled outputs of the trained model, from its final embeddings.
    let f = fixture();
    let table = floats(&f["final_weights"][0]);
    let ids = floats(&f["ids"]);
    let (m, l) = (5, 7);
    let rows = ids.len() / l;
    let embedded: Vec<f32> = ids
        .iter()
        .flat_map(|&id| table[id as usize * m..(id as usize + 1) * m].to_vec())
        .collect();
    let dev = test_device(0);
    let x: Tensor<(usize, Const<7>, Const<5>), f32, _> =
        dev.tensor_from_vec(embedded, (rows, Const, Const));
    let pooled = GlobalAveragePooling1D.forward(x).as_vec();
    assert_close(&pooled, &floats(&f["pooled"]), 1e-6, "pooled");
}

#[test]
fn keras_files_and_summary_name_it_as_keras_does() {
    let dev = Cpu::seed_from_u64(0);
    let model = PooledText::<f32, Cpu>::build(&dev);
    let mut layers = Vec::new();
    model.keras_layers("", &mut layers).unwrap();
    let pool = &layers[1];
    assert_eq!(pool.class_name, "GlobalAveragePooling1D");
    assert_eq!(pool.config["data_format"], "channels_last");
    assert_eq!(pool.config["keepdims"], false);
    assert!(pool.variables.is_empty());
    // `summary()` draws `(None, 5)` for it after an input of 7 steps of 5 values.
    assert_eq!(pool.output.of(&[7, 5]), vec![5]);
}
