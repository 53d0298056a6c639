//! The text example's data and model at a small size: the sentences and token ids made in Rust
//! (`examples/common/text.rs`) are the ones Keras was given (`scripts/text_data.py`), and from
//! the same initial weights the model trains, evaluates and predicts as Keras 3.15.1 does
//! (`tests/fixtures/keras/text_fit.json`, made by `make_text_fit.py`), within 1e-5.

use std::path::Path;

use keras::layers::Embedding;
use keras::prelude::*;
use serde_json::Value;

#[path = "../examples/common/text.rs"]
#[allow(dead_code)]
mod text;

use text::{sentences, Vocabulary};

const MAX_TOKENS: usize = 64;
const LENGTH: usize = 12;

/// `examples/text_classification.rs`'s model.
#[derive(Sequential)]
struct TopicClassifier<E: Dtype, D: Device<E>> {
    embed: Embedding<MAX_TOKENS, 16, E, D>,
    flat: Flatten<{ LENGTH * 16 }>,
    hidden: Dense<{ LENGTH * 16 }, 32, ReLU, E, D>,
    logits: Dense<32, 3, Linear, E, D>,
}

fn fixture() -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/keras/text_fit.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn assert_close(got: &[f32], want: &[f32], what: &str) {
    assert_eq!(got.len(), want.len(), "{what}");
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "{what}[{i}]: {g} vs Keras {w}"
        );
    }
}

/// The example's sentences, tokenised as the example does: the first `n_train` training and
/// `n_test` test sentences as (ids, labels).
fn example_data(n_train: usize, n_test: usize) -> [(Vec<f32>, Vec<f32>); 2] {
    let (train_texts, train_labels) = sentences(2000, 1);
    let (test_texts, test_labels) = sentences(500, 2);
    let vocab = Vocabulary::adapt(&train_texts, MAX_TOKENS);
    let take = |texts: &[String], labels: &[usize], n: usize| {
        (
            vocab.vectorize_all(&texts[..n], LENGTH),
            labels[..n].iter().map(|&c| c as f32).collect(),
        )
    };
    [
        take(&train_texts, &train_labels, n_train),
        take(&test_texts, &test_labels, n_test),
    ]
}

#[test]
fn the_example_makes_the_same_token_ids_and_labels_as_the_keras_script() {
    let f = fixture();
    let n_train = f["train_labels"].as_array().unwrap().len();
    let n_test = f["test_labels"].as_array().unwrap().len();
    let [(train_ids, train_labels), (test_ids, test_labels)] = example_data(n_train, n_test);
    assert_eq!(train_ids, floats(&f["train_ids"]));
    assert_eq!(train_labels, floats(&f["train_labels"]));
    assert_eq!(test_ids, floats(&f["test_ids"]));
    assert_eq!(test_labels, floats(&f["test_labels"]));
    // Both ends of the vocabulary are used: padding and words outside it.
    assert!(train_ids.contains(&0.0) && train_ids.contains(&1.0));
    assert!(train_ids.contains(&(MAX_TOKENS as f32 - 1.0)));
}

#[test]
fn the_text_model_trains_as_keras_trains_it_from_the_same_weights() {
    let f = fixture();
    let dev = Cpu::seed_from_u64(0);
    let mut model = TopicClassifier::<f32, Cpu>::build(&dev);
    let w = &f["initial_weights"];
    model.embed.set_weights(&floats(&w[0])).unwrap();
    model
        .hidden
        .set_weights(&floats(&w[1]), &floats(&w[2]))
        .unwrap();
    model
        .logits
        .set_weights(&floats(&w[3]), &floats(&w[4]))
        .unwrap();
    let mut trainer = Trainer::compile(
        model,
        Adam::new()
            .with_learning_rate(f["learning_rate"].as_f64().unwrap() as f32)
            .build()
            .unwrap(),
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (metrics::ResolvedAccuracy::default(),),
        &dev,
    )
    .unwrap();
    let data = |ids: &Value, labels: &Value| {
        ArrayDataset::<Rank1<LENGTH>, Sparse>::new(floats(ids), floats(labels)).unwrap()
    };
    let train = data(&f["train_ids"], &f["train_labels"]);
    let test = data(&f["test_ids"], &f["test_labels"]);
    let history = trainer
        .fit(&train)
        .epochs(f["epochs"].as_u64().unwrap() as usize)
        .batch_size(f["batch_size"].as_u64().unwrap() as usize)
        .shuffle(Shuffle::None)
        .validation_data(&test)
        .verbose(0)
        .run()
        .unwrap();
    for key in ["loss", "accuracy", "val_loss", "val_accuracy"] {
        assert_close(history.get(key).unwrap(), &floats(&f["history"][key]), key);
    }
    let logs = trainer.evaluate(&test).run().unwrap();
    assert_close(
        &[logs.get("loss").unwrap(), logs.get("accuracy").unwrap()],
        &[
            f["test_loss"].as_f64().unwrap() as f32,
            f["test_accuracy"].as_f64().unwrap() as f32,
        ],
        "evaluate",
    );
    assert_close(
        &trainer.predict(&test).run().unwrap(),
        &floats(&f["predictions"]),
        "predictions",
    );
}
