//! Token ids as inputs: `fit`, `evaluate` and `predict` take integer ids (coded as floats in the
//! batch, as Keras casts its inputs) through an `Embedding`, and train as Keras 3.15.1 trains
//! the same model (`tests/fixtures/keras/embedding_fit.json`, made by `make_embedding_fit.py`);
//! an id outside `0..input_dim` or not an integer is a typed error that changes nothing.
//!
//! The model runs on [`TestDevice`] (`Cuda` with the `cuda` feature: `embedding.cu`'s lookup on
//! the uploaded ids, checked on the host values they were uploaded from), at the fixtures'
//! tolerance times [`DEVICE_TOL_FACTOR`].

mod common;

use common::{floats, test_device, TestDevice, DEVICE_TOL_FACTOR};
use keras_core::layers::Embedding;
use keras_core::prelude::*;
use serde_json::Value;

#[derive(Sequential)]
struct TokenClassifier<E: Dtype, D: Device<E>> {
    embed: Embedding<10, 4, E, D>,
    flat: Flatten<24>,
    logits: Dense<24, 2, Linear, E, D>,
}

type TokenTrainer = Trainer<
    TokenClassifier<f32, TestDevice>,
    keras_core::optimizers::KerasOptimizer<Sgd>,
    losses::SparseCategoricalCrossentropy,
    (),
    (),
    TestDevice,
>;

fn fixture() -> Value {
    common::json("embedding_fit.json")
}

fn trainer(f: &Value) -> TokenTrainer {
    let dev = test_device(0);
    let mut model = TokenClassifier::<f32, TestDevice>::build(&dev);
    let w = &f["initial_weights"];
    model.embed.set_weights(&floats(&w[0])).unwrap();
    model
        .logits
        .set_weights(&floats(&w[1]), &floats(&w[2]))
        .unwrap();
    Trainer::compile(
        model,
        Sgd::new()
            .with_learning_rate(f["learning_rate"].as_f64().unwrap() as f32)
            .build()
            .unwrap(),
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap()
}

fn tokens(ids: Vec<f32>, labels: Vec<f32>) -> ArrayDataset<Rank1<6>, Sparse> {
    ArrayDataset::new(ids, labels).unwrap()
}

fn fixture_data(f: &Value) -> ArrayDataset<Rank1<6>, Sparse> {
    tokens(floats(&f["ids"]), floats(&f["labels"]))
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            f64::from((g - w).abs()) <= 1e-5 * DEVICE_TOL_FACTOR * f64::from(1.0 + w.abs()),
            "{what}[{i}]: {g} vs Keras {w}"
        );
    }
}

#[test]
fn a_model_on_token_ids_trains_as_keras_trains_it() {
    let f = fixture();
    let mut trainer = trainer(&f);
    let data = fixture_data(&f);
    let history = trainer
        .fit(&data)
        .epochs(f["epochs"].as_u64().unwrap() as usize)
        .batch_size(f["batch_size"].as_u64().unwrap() as usize)
        .shuffle(Shuffle::None)
        .verbose(0)
        .run()
        .unwrap();
    assert_close(history.get("loss").unwrap(), &floats(&f["loss"]), "loss");
    let m = trainer.model();
    let w = &f["final_weights"];
    assert_close(&m.embed.embeddings.as_vec(), &floats(&w[0]), "embeddings");
    assert_close(&m.logits.kernel.as_vec(), &floats(&w[1]), "kernel");
    assert_close(&m.logits.bias.as_vec(), &floats(&w[2]), "bias");
    assert_close(
        &trainer.predict(&data).run().unwrap(),
        &floats(&f["predictions"]),
        "predictions",
    );
    assert!(trainer.evaluate(&data).run().unwrap().get("loss").is_some());
}

#[test]
fn an_id_outside_the_vocabulary_or_not_an_integer_is_a_typed_error_that_changes_nothing() {
    let f = fixture();
    for (bad, position) in [(10.0, 7), (-1.0, 3), (2.5, 11)] {
        let mut trainer = trainer(&f);
        let before = trainer.weights().values.clone();
        let mut ids = floats(&f["ids"]);
        ids[position] = bad;
        let data = tokens(ids, floats(&f["labels"]));
        let err = trainer
            .fit(&data)
            .epochs(1)
            .batch_size(4)
            .shuffle(Shuffle::None)
            .verbose(0)
            .run()
            .unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidArgument { .. }), "{text}");
        assert!(
            text.contains(&format!("token id {bad}"))
                && text.contains(&format!("position {position}")),
            "{text}"
        );
        assert_eq!(
            trainer.weights().values,
            before,
            "a refused batch changed the model"
        );
        let predicted = trainer.predict(&data).run();
        assert!(predicted.is_err(), "predict took id {bad}");
        // Good data afterwards trains: nothing stale is left behind.
        trainer
            .fit(&fixture_data(&f))
            .epochs(1)
            .verbose(0)
            .run()
            .unwrap();
    }
}
