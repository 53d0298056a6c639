//! Keras's own files, in and out: models Keras 3.15.1 saved (`tests/fixtures/keras/files/`, made
//! by `make_keras_files.py`) load into typed models and predict what Keras predicted; a loaded
//! Adam state continues training to Keras's next epoch; our own `.weights.h5` and `.keras`
//! files read back; files of another architecture, truncated or corrupt ones are typed errors
//! that change nothing. The compiled metrics are written as Keras writes them
//! (`metric_configs.json`, `make_metric_configs.py`), and an adapted Normalization moves both
//! ways.

use std::path::{Path, PathBuf};

use keras_core::dfdx::nn::DeviceBuildExt;
use keras_core::layers::{Conv2D, KerasLayers, MaxPool2D, Normalization};
use keras_core::persist::keras::{self as kf, KerasArchive};
use keras_core::prelude::*;
use serde_json::Value;

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/keras")
}

fn fixture(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture_dir().join("keras_files.json")).unwrap();
    let all: Value = serde_json::from_str(&text).unwrap();
    all[name].clone()
}

fn keras_file(name: &str) -> PathBuf {
    fixture_dir().join("files").join(name)
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("keras-files-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn assert_close(got: &[f32], expected: &[f32], tol: f32, what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tol * (1.0 + e.abs()),
            "{what}[{i}]: got {g}, Keras {e}"
        );
    }
}

type Mlp = (Dense<4, 8, ReLU>, Dense<8, 3>);
type ConvBn = (
    Conv2D<2, 4, 3, 4, 4, 1, 0, ReLU>,
    BatchNormalization<4>,
    MaxPool2D<2, 2, 2>,
    Flatten<16>,
    Dense<16, 2>,
);

/// The Adam fixture's model, as a derived struct (field names are not Keras's layer names).
#[derive(Sequential)]
struct Regressor<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    norm: BatchNormalization<8, E, D>,
    out: Dense<8, 1, Linear, E, D>,
}

fn regressor_trainer(
    seed: u64,
) -> Trainer<
    Regressor<f32, Cpu>,
    keras_core::optimizers::KerasOptimizer<Adam>,
    losses::MeanSquaredError,
    (),
> {
    let dev = Cpu::seed_from_u64(seed);
    Trainer::compile(
        Regressor::<f32, Cpu>::build(&dev),
        Adam::new().with_learning_rate(0.01).build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )
    .unwrap()
}

fn regressor_data() -> ArrayDataset<Rank1<4>, DenseTarget<1>> {
    let f = fixture("adam_fitted");
    ArrayDataset::new(floats(&f["x"]), floats(&f["y"])).unwrap()
}

#[test]
fn a_keras_made_mlp_predicts_what_keras_predicted() {
    let f = fixture("mlp");
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<Mlp, f32>();
    kf::load_weights(&mut model, keras_file("mlp.weights.h5")).unwrap();
    let x = dev.tensor_from_vec(floats(&f["x"]), (5usize, Const::<4>));
    assert_close(
        &model.forward(x).as_vec(),
        &floats(&f["predictions"]),
        1e-6,
        "mlp predictions",
    );
}

#[test]
fn a_keras_made_conv_and_batch_normalization_model_predicts_what_keras_predicted() {
    let f = fixture("conv_bn");
    let dev = Cpu::seed_from_u64(0);
    let mut model = dev.build_module::<ConvBn, f32>();
    kf::load_weights(&mut model, keras_file("conv_bn.keras")).unwrap();
    // The moving statistics came from the file: Keras trained them away from 0 and 1.
    assert!(model.1.moving_mean.as_vec().iter().any(|&m| m != 0.0));
    let x = dev.tensor_from_vec(
        floats(&f["x"]),
        (3usize, Const::<6>, Const::<6>, Const::<2>),
    );
    assert_close(
        &model.forward(x).as_vec(),
        &floats(&f["predictions"]),
        1e-6,
        "conv_bn predictions",
    );
}

#[test]
fn a_fitted_adam_state_continues_training_to_keras_next_epoch() {
    let f = fixture("adam_fitted");
    for file in ["adam_fitted.keras", "adam_fitted.weights.h5"] {
        let mut trainer = regressor_trainer(9);
        let loaded = trainer.load_keras_weights(keras_file(file)).unwrap();
        assert!(loaded.optimizer, "{file}: the Adam state was not loaded");
        assert_eq!(
            trainer.optimizer().iterations(),
            f["iterations_before"].as_u64().unwrap()
        );
        let data = regressor_data();
        let rows = f["predictions_rows"].as_u64().unwrap() as usize;
        let predictions = trainer.predict(&data).run().unwrap();
        assert_close(
            &predictions[..rows],
            &floats(&f["predictions"]),
            1e-6,
            "predictions",
        );
        let history = trainer
            .fit(&data)
            .epochs(1)
            .batch_size(f["batch_size"].as_u64().unwrap() as usize)
            .shuffle(Shuffle::None)
            .verbose(0)
            .run()
            .unwrap();
        assert_close(
            &[history.get("loss").unwrap()[0]],
            &[f["next_epoch_loss"].as_f64().unwrap() as f32],
            1e-5,
            "next epoch's loss",
        );
        assert_eq!(
            trainer.optimizer().iterations(),
            f["iterations_after"].as_u64().unwrap()
        );
        // Keras's get_weights order: kernel, bias, gamma, beta, moving_mean, moving_variance,
        // kernel, bias.
        let m = trainer.model();
        let ours = [
            m.hidden.kernel.as_vec(),
            m.hidden.bias.as_vec(),
            m.norm.gamma.as_vec(),
            m.norm.beta.as_vec(),
            m.norm.moving_mean.as_vec(),
            m.norm.moving_variance.as_vec(),
            m.out.kernel.as_vec(),
            m.out.bias.as_vec(),
        ];
        let keras = f["next_epoch_weights"].as_array().unwrap();
        assert_eq!(keras.len(), ours.len());
        for (k, (got, expected)) in ours.iter().zip(keras).enumerate() {
            assert_close(got, &floats(expected), 1e-5, &format!("{file}: weight {k}"));
        }
    }
}

#[test]
fn without_the_optimizer_state_the_next_epoch_differs_from_keras() {
    // The check above can fail: training from fresh Adam slots lands elsewhere.
    let f = fixture("adam_fitted");
    let dev = Cpu::seed_from_u64(0);
    let mut model = Regressor::<f32, Cpu>::build(&dev);
    kf::load_weights(&mut model, keras_file("adam_fitted.weights.h5")).unwrap();
    let mut trainer = Trainer::compile(
        model,
        Adam::new().with_learning_rate(0.01).build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )
    .unwrap();
    trainer
        .fit(&regressor_data())
        .epochs(1)
        .batch_size(8)
        .shuffle(Shuffle::None)
        .verbose(0)
        .run()
        .unwrap();
    let keras_kernel = floats(&f["next_epoch_weights"][0]);
    let ours = trainer.model().hidden.kernel.as_vec();
    let max_diff = ours
        .iter()
        .zip(&keras_kernel)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(max_diff > 1e-3, "max difference {max_diff}");
}

#[test]
fn our_keras_weights_file_reads_back_bit_for_bit_with_the_optimizer_state() {
    let data = regressor_data();
    let mut trained = regressor_trainer(1);
    trained
        .fit(&data)
        .epochs(2)
        .batch_size(8)
        .verbose(0)
        .run()
        .unwrap();
    let path = scratch("roundtrip.weights.h5");
    trained.save_keras_weights(&path).unwrap();

    let mut restored = regressor_trainer(2);
    assert!(restored.load_keras_weights(&path).unwrap().optimizer);
    assert_eq!(
        restored.predict(&data).run().unwrap(),
        trained.predict(&data).run().unwrap()
    );
    assert_eq!(restored.optimizer().state(), trained.optimizer().state());
    // And both continue training identically.
    for t in [&mut trained, &mut restored] {
        t.fit(&data)
            .epochs(1)
            .batch_size(8)
            .shuffle(Shuffle::None)
            .verbose(0)
            .run()
            .unwrap();
    }
    assert_eq!(restored.weights().values, trained.weights().values);
}

#[test]
fn a_keras_file_we_write_describes_the_model_for_keras() {
    let mut trainer = regressor_trainer(3);
    let path = scratch("model.keras");
    trainer.save_keras(&path).unwrap();
    let archive = KerasArchive::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    let config = &archive.config;
    assert_eq!(config["class_name"], "Sequential");
    let layers = config["config"]["layers"].as_array().unwrap();
    let classes: Vec<&str> = layers
        .iter()
        .map(|l| l["class_name"].as_str().unwrap())
        .collect();
    assert_eq!(
        classes,
        ["InputLayer", "Dense", "BatchNormalization", "Dense"]
    );
    assert_eq!(
        layers[0]["config"]["batch_shape"],
        serde_json::json!([null, 4])
    );
    assert_eq!(layers[1]["config"]["units"], 8);
    assert_eq!(layers[1]["config"]["activation"], "relu");
    assert_eq!(layers[3]["config"]["name"], "dense_1");
    let compile = &config["compile_config"];
    assert_eq!(compile["optimizer"]["class_name"], "Adam");
    assert!(
        (compile["optimizer"]["config"]["learning_rate"]
            .as_f64()
            .unwrap()
            - 0.01)
            .abs()
            < 1e-9
    );
    assert_eq!(compile["loss"], "mean_squared_error");
    // No metrics: Keras's `compile(metrics=None)`.
    assert_eq!(
        (&compile["metrics"], &compile["weighted_metrics"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(archive.metadata["keras_version"], kf::KERAS_VERSION);

    // The weights inside load back.
    let mut other = regressor_trainer(4);
    other.load_keras_weights(&path).unwrap();
    assert_eq!(other.weights().values, trainer.weights().values);
}

#[test]
fn a_model_whose_first_layer_does_not_fix_the_input_shape_is_refused_by_save_keras() {
    let dev = Cpu::seed_from_u64(0);
    let mut trainer = Trainer::compile(
        dev.build_module::<(BatchNormalization<3>, Dense<3, 1>), f32>(),
        Adam::new().build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )
    .unwrap();
    let path = scratch("no-input.keras");
    let err = trainer.save_keras(&path).unwrap_err();
    assert!(matches!(err, Error::KerasFile { .. }), "{err}");
    assert!(err.to_string().contains("input shape"), "{err}");
    assert!(!path.exists());
}

/// Every model tensor (trainable, then non-trainable), to check that a refused load changed
/// nothing.
fn snapshot<M: keras_core::dfdx::nn::tensor_collection::TensorCollection<f32, Cpu>>(
    model: &M,
) -> Vec<f32> {
    let mut all = keras_core::model::layout(model).unwrap().values;
    all.extend(
        keras_core::model::non_trainable_layout(model)
            .unwrap()
            .values,
    );
    all
}

#[test]
fn a_file_of_another_architecture_names_the_layer_and_both_shapes_and_changes_nothing() {
    let dev = Cpu::seed_from_u64(0);
    // Dense(8) in the file, Dense(5) here.
    let mut model = dev.build_module::<(Dense<4, 5, ReLU>, Dense<5, 3>), f32>();
    let before = snapshot(&model);
    let err = kf::load_weights(&mut model, keras_file("mlp.weights.h5")).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::KerasFile { .. }), "{text}");
    for part in ["`0.kernel`", "layers/dense/vars/0", "[4, 8]", "[4, 5]"] {
        assert!(text.contains(part), "{part} missing from: {text}");
    }
    assert_eq!(snapshot(&model), before);
}

#[test]
fn a_missing_layer_and_an_extra_layer_are_typed_errors() {
    let dev = Cpu::seed_from_u64(0);
    // One Dense more than the file.
    let mut longer = dev.build_module::<(Dense<4, 8, ReLU>, Dense<8, 3>, Dense<3, 3>), f32>();
    let text = kf::load_weights(&mut longer, keras_file("mlp.weights.h5"))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("layers/dense_2") && text.contains("not in the file"),
        "{text}"
    );
    // One Dense fewer: the file's second layer is left over.
    let mut shorter = dev.build_module::<(Dense<4, 8, ReLU>,), f32>();
    let text = kf::load_weights(&mut shorter, keras_file("mlp.weights.h5"))
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("layers/dense_1") && text.contains("lacks"),
        "{text}"
    );
    // BatchNormalization's four variables where the file has none.
    let mut with_bn =
        dev.build_module::<(Dense<4, 8, ReLU>, BatchNormalization<8>, Dense<8, 3>), f32>();
    let before = snapshot(&with_bn);
    let text = kf::load_weights(&mut with_bn, keras_file("mlp.weights.h5"))
        .unwrap_err()
        .to_string();
    assert!(text.contains("layers/batch_normalization"), "{text}");
    assert_eq!(snapshot(&with_bn), before);
}

#[test]
fn truncated_and_corrupted_files_are_typed_errors_that_change_nothing() {
    let dev = Cpu::seed_from_u64(0);
    for name in ["mlp.weights.h5", "adam_fitted.keras"] {
        let bytes = std::fs::read(keras_file(name)).unwrap();
        let ext = if name.ends_with(".keras") {
            "keras"
        } else {
            "weights.h5"
        };
        let mut cases: Vec<Vec<u8>> = (1..8)
            .map(|k| bytes[..bytes.len() * k / 8].to_vec())
            .collect();
        cases.push(Vec::new());
        let mut flipped = bytes.clone();
        // The superblock's signature.
        flipped[if ext == "keras" { 0 } else { 3 }] ^= 0xFF;
        cases.push(flipped);
        for (k, case) in cases.into_iter().enumerate() {
            let path = scratch(&format!("bad-{k}.{ext}"));
            std::fs::write(&path, &case).unwrap();
            let mut model = dev.build_module::<Mlp, f32>();
            let before = snapshot(&model);
            let result = kf::load_weights(&mut model, &path);
            if name.ends_with(".keras") {
                // The .keras fixture is another architecture; a readable prefix would still be
                // refused, so only the error kind is checked.
                assert!(result.is_err(), "{name} case {k}");
            } else {
                let err = result.expect_err(&format!("{name} truncated case {k} was accepted"));
                assert!(
                    matches!(err, Error::KerasFile { .. }),
                    "{name} case {k}: {err}"
                );
            }
            assert_eq!(
                snapshot(&model),
                before,
                "{name} case {k} changed the model"
            );
        }
    }
}

#[test]
fn a_derived_model_lists_its_layers_in_field_order_with_keras_names() {
    let dev = Cpu::seed_from_u64(0);
    let model = Regressor::<f32, Cpu>::build(&dev);
    let mut layers = Vec::new();
    model.keras_layers("", &mut layers).unwrap();
    let paths: Vec<String> = layers.iter().map(|l| l.path.clone()).collect();
    assert_eq!(paths, ["hidden", "norm", "out"]);
    assert_eq!(
        keras_core::layers::keras_names::layer_groups(&layers),
        [
            "layers/dense",
            "layers/batch_normalization",
            "layers/dense_1"
        ]
    );
    assert_eq!(layers[1].variable_path(3), "norm.moving_variance");
}

type NormDense = (Normalization<3>, Dense<3, 2>);

#[test]
fn a_keras_made_adapted_normalization_predicts_what_keras_predicted() {
    let f = fixture("normalization_dense");
    for file in [
        "normalization_dense.keras",
        "normalization_dense.weights.h5",
    ] {
        let dev = Cpu::seed_from_u64(0);
        let mut model = dev.build_module::<NormDense, f32>();
        kf::load_weights(&mut model, keras_file(file)).unwrap();
        assert_close(&model.0.mean.as_vec(), &floats(&f["mean"]), 1e-6, "mean");
        assert_close(
            &model.0.variance.as_vec(),
            &floats(&f["variance"]),
            1e-6,
            "variance",
        );
        let x = dev.tensor_from_vec(floats(&f["x"]), (5usize, Const::<3>));
        assert_close(
            &model.forward(x).as_vec(),
            &floats(&f["predictions"]),
            1e-6,
            &format!("{file}: predictions"),
        );
    }
}

#[test]
fn our_keras_file_of_an_adapted_normalization_reads_back_to_the_same_predictions() {
    let f = fixture("normalization_dense");
    let data =
        ArrayDataset::<Rank1<3>, DenseTarget<2>>::new(floats(&f["x"]), vec![0.0; 10]).unwrap();
    let compile = |seed, adapt: bool| {
        let dev = Cpu::seed_from_u64(seed);
        let mut model = dev.build_module::<NormDense, f32>();
        if adapt {
            model.0.adapt(&data).unwrap();
        }
        Trainer::compile(
            model,
            Sgd::new().with_learning_rate(0.01).build().unwrap(),
            losses::MeanSquaredError::default(),
            (),
            &dev,
        )
        .unwrap()
    };
    let mut saved = compile(1, true);
    let path = scratch("normalization.keras");
    saved.save_keras(&path).unwrap();

    let archive = KerasArchive::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    let layer = &archive.config["config"]["layers"][1];
    assert_eq!(layer["class_name"], "Normalization");
    for (key, value) in [
        ("name", serde_json::json!("normalization")),
        ("axis", serde_json::json!([-1])),
        ("invert", serde_json::json!(false)),
        ("mean", Value::Null),
        ("variance", Value::Null),
    ] {
        assert_eq!(layer["config"][key], value, "{key}");
    }
    // Keras's three variables: mean, variance and the integer count.
    let weights = kf::WeightsH5::from_bytes(archive.weights).unwrap();
    let vars = weights.vars("layers/normalization");
    assert_eq!(vars.len(), 3);
    assert_eq!(vars[0].1.data.to_f32(), saved.model().0.mean.as_vec());
    assert_eq!(vars[1].1.data.to_f32(), saved.model().0.variance.as_vec());
    assert_eq!(
        (vars[2].1.shape.len(), &vars[2].1.data),
        (0, &kf::H5Data::Int(vec![0]))
    );

    let mut restored = compile(2, false);
    restored.load_keras_weights(&path).unwrap();
    assert_eq!(
        restored.predict(&data).run().unwrap(),
        saved.predict(&data).run().unwrap()
    );
    assert_eq!(
        restored.model().0.mean.as_vec(),
        saved.model().0.mean.as_vec()
    );
}

type Classifier = (Dense<4, 6, ReLU>, Dense<6, 3>);

#[test]
fn a_keras_file_we_write_names_the_compiled_metrics_with_their_configs() {
    use metrics::{AucCurve, FScoreAverage, MeanMetricWrapper, Named};
    let dev = Cpu::seed_from_u64(5);
    let mut trainer = Trainer::compile(
        dev.build_module::<Classifier, f32>(),
        Adam::new().with_learning_rate(0.01).build().unwrap(),
        losses::CategoricalCrossentropy::default().with_from_logits(true),
        (
            metrics::ResolvedAccuracy::<DenseTarget<3>>::default(),
            metrics::Auc::new()
                .with_num_thresholds(50)
                .unwrap()
                .with_curve(AucCurve::Pr)
                .with_from_logits(true),
            metrics::TopKCategoricalAccuracy::<2>::new().unwrap(),
            metrics::Precision::new()
                .with_thresholds(&[0.3, 0.6])
                .unwrap(),
            metrics::BinaryAccuracy::default()
                .with_threshold(0.3)
                .unwrap(),
            Named::new("mean_absolute_error", metrics::MeanAbsoluteError::default()),
            metrics::F1Score::default().with_average(FScoreAverage::Macro),
            // A Rust function: Keras cannot rebuild it, so it is left out.
            MeanMetricWrapper::<DenseTarget<3>, _>::new("gap", metrics::Direction::Down, |t, p| {
                p[0] - t[0]
            }),
        ),
        &dev,
    )
    .unwrap()
    .with_weighted_metrics((
        metrics::ResolvedAccuracy::<DenseTarget<3>>::default(),
        metrics::CategoricalCrossentropy::default().with_from_logits(true),
    ));
    let path = scratch("metrics.keras");
    trainer.save_keras(&path).unwrap();
    let archive = KerasArchive::from_bytes(&std::fs::read(&path).unwrap()).unwrap();
    let compile = &archive.config["compile_config"];
    let object = |class: &str, config: Value| {
        serde_json::json!({
            "module": "keras.metrics",
            "class_name": class,
            "config": config,
            "registered_name": null,
        })
    };
    // As Keras 3.15.1 writes `compile(metrics=[...], weighted_metrics=[...])` (compare
    // files/metrics_compiled.keras).
    let expected_metrics = serde_json::json!([
        "accuracy",
        object(
            "AUC",
            serde_json::json!({"name": "auc", "dtype": "float32", "num_thresholds": 50,
                "curve": "PR", "summation_method": "interpolation", "multi_label": false,
                "num_labels": null, "label_weights": null, "from_logits": true})
        ),
        object(
            "TopKCategoricalAccuracy",
            serde_json::json!({"name": "top_k_categorical_accuracy", "dtype": "float32", "k": 2})
        ),
        object(
            "Precision",
            serde_json::json!({"name": "precision", "dtype": "float32",
                "thresholds": [0.3, 0.6], "top_k": null, "class_id": null})
        ),
        object(
            "BinaryAccuracy",
            serde_json::json!({"name": "binary_accuracy", "dtype": "float32", "threshold": 0.3})
        ),
        object(
            "MeanAbsoluteError",
            serde_json::json!({"name": "mean_absolute_error", "dtype": "float32"})
        ),
        object(
            "F1Score",
            serde_json::json!({"name": "f1_score", "dtype": "float32", "average": "macro",
                "threshold": null})
        ),
    ]);
    assert_eq!(compile["metrics"], expected_metrics);
    let expected_weighted = serde_json::json!([
        "accuracy",
        object(
            "CategoricalCrossentropy",
            serde_json::json!({"name": "categorical_crossentropy", "dtype": "float32",
                "from_logits": true, "label_smoothing": 0.0, "axis": -1})
        ),
    ]);
    assert_eq!(compile["weighted_metrics"], expected_weighted);

    // Keras's own file lists the same metrics (the first four) in the same form.
    let keras =
        KerasArchive::from_bytes(&std::fs::read(keras_file("metrics_compiled.keras")).unwrap())
            .unwrap();
    let theirs = &keras.config["compile_config"];
    assert_eq!(
        theirs["metrics"].as_array().unwrap()[..],
        expected_metrics.as_array().unwrap()[..4]
    );
    let mut weighted = theirs["weighted_metrics"].clone();
    // Keras keeps the Python int 0 of the default label smoothing.
    weighted[1]["config"]["label_smoothing"] = 0.0.into();
    assert_eq!(weighted, expected_weighted);
}

#[test]
fn a_keras_made_file_compiled_with_metrics_loads_and_predicts_what_keras_predicted() {
    let f = fixture("metrics_compiled");
    let dev = Cpu::seed_from_u64(0);
    let mut trainer = Trainer::compile(
        dev.build_module::<Classifier, f32>(),
        Adam::new().with_learning_rate(0.01).build().unwrap(),
        losses::CategoricalCrossentropy::default().with_from_logits(true),
        (
            metrics::ResolvedAccuracy::<DenseTarget<3>>::default(),
            metrics::Auc::new(),
        ),
        &dev,
    )
    .unwrap();
    assert!(
        trainer
            .load_keras_weights(keras_file("metrics_compiled.keras"))
            .unwrap()
            .optimizer
    );
    let x = dev.tensor_from_vec(floats(&f["x"]), (3usize, Const::<4>));
    assert_close(
        &trainer.model().forward(x).as_vec(),
        &floats(&f["predictions"]),
        1e-6,
        "predictions",
    );
}

/// Every number as an `f64`, so that Keras's Python int `0` and this crate's `0.0` compare equal.
fn numbers_as_f64(v: &Value) -> Value {
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.iter().map(numbers_as_f64).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (k.clone(), numbers_as_f64(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

#[test]
fn every_metric_with_a_keras_form_writes_what_keras_writes_for_it() {
    use metrics::*;
    let text = std::fs::read_to_string(fixture_dir().join("metric_configs.json")).unwrap();
    let keras: Value = serde_json::from_str(&text).unwrap();
    let keras = keras["metrics"].as_array().unwrap();
    let ours: Vec<Option<Value>> = vec![
        ResolvedAccuracy::<Sparse>::default().keras_config(),
        Auc::new().keras_config(),
        Named::new(
            "auc_pr",
            Auc::new()
                .with_num_thresholds(50)
                .unwrap()
                .with_curve(AucCurve::Pr)
                .with_summation_method(AucSummation::Minoring)
                .with_multi_label(Some(2))
                .unwrap()
                .with_from_logits(true),
        )
        .keras_config(),
        Named::new("auc_at", Auc::new().with_thresholds(&[0.2, 0.7]).unwrap()).keras_config(),
        Accuracy::default().keras_config(),
        BinaryAccuracy::default()
            .with_threshold(0.3)
            .unwrap()
            .keras_config(),
        CategoricalAccuracy::default().keras_config(),
        SparseCategoricalAccuracy::default().keras_config(),
        TopKCategoricalAccuracy::<2>::new().unwrap().keras_config(),
        SparseTopKCategoricalAccuracy::<1>::new()
            .unwrap()
            .keras_config(),
        Precision::new().keras_config(),
        Recall::new()
            .with_thresholds(&[0.3, 0.6])
            .unwrap()
            .with_class_id(1)
            .keras_config(),
        Named::new("precision_top2", Precision::new().with_top_k(2).unwrap()).keras_config(),
        TruePositives::default().keras_config(),
        FalseNegatives::default()
            .with_thresholds(&[0.25, 0.75])
            .unwrap()
            .keras_config(),
        BinaryCrossentropy::default()
            .with_from_logits(true)
            .with_label_smoothing(0.1)
            .unwrap()
            .keras_config(),
        CategoricalCrossentropy::default().keras_config(),
        SparseCategoricalCrossentropy::default()
            .with_from_logits(true)
            .keras_config(),
        MeanSquaredError::default().keras_config(),
        MeanAbsoluteError::default().keras_config(),
        RootMeanSquaredError::default().keras_config(),
        MeanAbsolutePercentageError::default().keras_config(),
        MeanSquaredLogarithmicError::default().keras_config(),
        CosineSimilarity::default().keras_config(),
        LogCoshError::default().keras_config(),
        Poisson::default().keras_config(),
        KLDivergence::default().keras_config(),
        Hinge::default().keras_config(),
        SquaredHinge::default().keras_config(),
        CategoricalHinge::default().keras_config(),
        PearsonCorrelation::default().keras_config(),
        ConcordanceCorrelation::default().keras_config(),
        R2Score::default().keras_config(),
        F1Score::default()
            .with_average(FScoreAverage::Macro)
            .with_threshold(Some(0.5))
            .unwrap()
            .keras_config(),
        FBetaScore::new(2.0).unwrap().keras_config(),
        PrecisionAtRecall::new(0.5).unwrap().keras_config(),
        RecallAtPrecision::new(0.8)
            .unwrap()
            .with_num_thresholds(20)
            .unwrap()
            .keras_config(),
        SensitivityAtSpecificity::new(0.5)
            .unwrap()
            .with_class_id(1)
            .keras_config(),
        SpecificityAtSensitivity::new(0.5).unwrap().keras_config(),
        IoU::<2>::new(&[0]).unwrap().keras_config(),
        MeanIoU::<2>::new().unwrap().keras_config(),
        BinaryIoU::default().keras_config(),
        OneHotIoU::<3>::new(&[1]).unwrap().keras_config(),
        OneHotMeanIoU::<3>::new().unwrap().keras_config(),
    ];
    assert_eq!(ours.len(), keras.len());
    for (ours, theirs) in ours.iter().zip(keras) {
        let ours = ours
            .as_ref()
            .unwrap_or_else(|| panic!("no Keras form for {theirs}"));
        assert_eq!(numbers_as_f64(ours), numbers_as_f64(theirs));
    }
    // A metric Keras cannot rebuild has none, and a Keras string keeps only its own name.
    let custom =
        MeanMetricWrapper::<DenseTarget<1>, _>::new("gap", Direction::Down, |t, p| p[0] - t[0]);
    assert_eq!(custom.keras_config(), None);
    let renamed = Named::new("acc", ResolvedAccuracy::<Sparse>::default());
    assert_eq!(renamed.keras_config(), None);
}
