//! `summary()` draws the table Keras 3.15.1 prints for the same model
//! (`tests/fixtures/keras/summaries.json`, made by `make_summaries.py`), before training and,
//! with the optimizer's parameters, after a step of Adam.

use std::path::Path;

use keras_core::dfdx::nn::DeviceBuildExt;
use keras_core::layers::{Conv2D, MaxPool2D, Normalization};
use keras_core::prelude::*;
use serde_json::Value;

fn keras_summary(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keras/summaries.json");
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let case = all["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no case {name}"));
    case["summary"].as_str().unwrap().to_string()
}

fn assert_same_table(ours: &str, keras: &str) {
    for (k, (a, b)) in ours.lines().zip(keras.lines()).enumerate() {
        assert_eq!(a, b, "line {k} differs:\nours:\n{ours}\nKeras:\n{keras}");
    }
    assert_eq!(
        ours.lines().count(),
        keras.lines().count(),
        "ours:\n{ours}\nKeras:\n{keras}"
    );
}

#[derive(Sequential)]
struct Regressor<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    norm: BatchNormalization<8, E, D>,
    out: Dense<8, 1, Linear, E, D>,
}

#[test]
fn a_model_summary_is_the_table_keras_prints() {
    let dev = Cpu::default();
    let model = Regressor::<f32, Cpu>::build(&dev);
    assert_same_table(
        &keras_core::model::summary(&model).unwrap(),
        &keras_summary("regressor"),
    );
}

#[test]
fn a_trained_convnet_summary_counts_the_optimizer_as_keras_does() {
    let dev = Cpu::seed_from_u64(0);
    let mut trainer = Trainer::compile(
        dev.build_module::<(
            Conv2D<2, 4, 3, 4, 4, 1, 0, ReLU>,
            BatchNormalization<4>,
            MaxPool2D<2, 2, 2>,
            Flatten<16>,
            Dropout,
            Dense<16, 2>,
        ), f32>(),
        Adam::new().build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )
    .unwrap();
    let before = trainer.summary().unwrap();
    assert!(!before.contains("Optimizer params"), "{before}");
    let data = ArrayDataset::<Rank3<6, 6, 2>, DenseTarget<2>>::new(vec![0.0; 2 * 72], vec![0.0; 4])
        .unwrap();
    trainer.fit(&data).epochs(1).verbose(0).run().unwrap();
    assert_same_table(&trainer.summary().unwrap(), &keras_summary("convnet"));
}

#[test]
fn an_adapted_normalization_counts_its_count_as_keras_does() {
    let dev = Cpu::default();
    let mut model = dev.build_module::<(Normalization<3>, Dense<3, 2>), f32>();
    let rows: Vec<f32> = (0..12).map(|v| v as f32).collect();
    let data = ArrayDataset::<Rank1<3>, keras_core::target::NoLabels>::features(rows).unwrap();
    model.0.adapt(&data).unwrap();
    assert_same_table(
        &keras_core::model::summary(&model).unwrap(),
        &keras_summary("normalized"),
    );
}
