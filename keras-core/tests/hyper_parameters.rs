//! Layer hyper-parameters given as `#[layer(name = value)]` hold through building, device
//! moves, dtype conversions, saving and loading, and reach Keras's files and this crate's
//! checkpoints; a file saved with other hyper-parameters is refused by every door.

use keras_core::callbacks::ModelCheckpoint;
use keras_core::data::ArrayDataset;
use keras_core::dfdx::nn::{DeviceBuildExt, ToDevice, ToDtype};
use keras_core::layers::KerasLayers;
use keras_core::prelude::*;

#[derive(Sequential)]
struct Tuned<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, Linear, E, D>,
    #[layer(momentum = 0.9, epsilon = 1e-5)]
    norm: BatchNormalization<8, E, D>,
    #[layer(negative_slope = 0.1)]
    act: LeakyReLU,
    #[layer(rate = 0.2)]
    drop: Dropout,
    out: Dense<8, 1, Linear, E, D>,
}

fn assert_tuned<E: Dtype, D: Device<E>>(m: &Tuned<E, D>, when: &str) {
    assert_eq!(m.norm.momentum, 0.9, "{when}: momentum");
    assert_eq!(m.norm.epsilon, 1e-5, "{when}: epsilon");
    assert_eq!(m.act.negative_slope, 0.1, "{when}: negative_slope");
    assert_eq!(m.drop.rate, 0.2, "{when}: rate");
}

#[test]
fn hyper_parameters_hold_through_build_device_moves_and_conversions() {
    let dev = Cpu::seed_from_u64(0);
    let model = Tuned::<f32, Cpu>::build(&dev);
    assert_tuned(&model, "built");
    let moved = model.to_device(&Cpu::seed_from_u64(1));
    assert_tuned(&moved, "moved");
    let wide: Tuned<f64, Cpu> = moved.to_dtype::<f64>();
    assert_tuned(&wide, "converted to f64");
    // Without the attribute the defaults come back: the attribute is what holds them.
    let plain = dev.build_module::<(BatchNormalization<8>, Dropout), f32>();
    assert_eq!((plain.0.momentum, plain.1.rate), (0.99, 0.5));
}

#[test]
fn hyper_parameters_hold_through_save_and_load_and_reach_keras_files() {
    let dev = Cpu::seed_from_u64(0);
    let compile = || {
        Trainer::compile(
            Tuned::<f32, Cpu>::build(&dev),
            Sgd::new().build().unwrap(),
            losses::MeanSquaredError::default(),
            (),
            &dev,
        )
        .unwrap()
    };
    let mut trainer = compile();
    let path = std::env::temp_dir().join(format!("hyper-{}.weights.h5", std::process::id()));
    trainer.save_keras_weights(&path).unwrap();
    let mut loaded = compile();
    loaded.load_keras_weights(&path).unwrap();
    assert_tuned(loaded.model(), "loaded");
    std::fs::remove_file(&path).ok();

    let mut layers = Vec::new();
    trainer.model().keras_layers("", &mut layers).unwrap();
    let config = |class: &str, key: &str| {
        layers
            .iter()
            .find(|l| l.class_name == class)
            .map(|l| l.config[key].as_f64().unwrap())
            .unwrap()
    };
    assert_eq!(config("BatchNormalization", "momentum"), 0.9);
    assert_eq!(config("BatchNormalization", "epsilon"), 1e-5);
    assert_eq!(config("LeakyReLU", "negative_slope"), 0.1);
    assert_eq!(config("Dropout", "rate"), 0.2);
}

/// [`Tuned`]'s layers with Keras's default hyper-parameters.
#[derive(Sequential)]
struct Untuned<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, Linear, E, D>,
    norm: BatchNormalization<8, E, D>,
    #[layer(negative_slope = 0.1)]
    act: LeakyReLU,
    #[layer(rate = 0.2)]
    drop: Dropout,
    out: Dense<8, 1, Linear, E, D>,
}

#[test]
fn a_keras_file_saved_with_other_hyper_parameters_is_refused_and_changes_nothing() {
    let dev = Cpu::seed_from_u64(0);
    let mut tuned = Trainer::compile(
        Tuned::<f32, Cpu>::build(&dev),
        Sgd::new().build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )
    .unwrap();
    let path = std::env::temp_dir().join(format!("hyper-{}.keras", std::process::id()));
    tuned.save_keras(&path).unwrap();
    let mut untuned = Trainer::compile(
        Untuned::<f32, Cpu>::build(&Cpu::seed_from_u64(1)),
        Sgd::new().build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )
    .unwrap();
    let before = untuned.weights().values.clone();
    // Same variables, same shapes: only BatchNormalization's momentum and epsilon differ.
    let err = untuned.load_keras_weights(&path).unwrap_err().to_string();
    assert!(
        err.contains("`norm` (BatchNormalization) has epsilon = 0.001")
            && err.contains("layers/batch_normalization was saved with epsilon = 0.00001"),
        "{err}"
    );
    assert_eq!(untuned.weights().values, before);
    // The same file loads into the model it was saved from.
    let mut again = Trainer::compile(
        Tuned::<f32, Cpu>::build(&Cpu::seed_from_u64(2)),
        Sgd::new().build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        &dev,
    )
    .unwrap();
    again.load_keras_weights(&path).unwrap();
    assert_eq!(again.weights().values, tuned.weights().values);
    std::fs::remove_file(&path).ok();
}

#[test]
fn the_model_names_each_hyper_parameter_by_field_path() {
    let model = Tuned::<f32, Cpu>::build(&Cpu::seed_from_u64(0));
    let hp = keras_core::model::hyper_parameters(&model).unwrap();
    let names: Vec<(&str, f64)> = hp.values.iter().map(|(n, v)| (n.as_str(), *v)).collect();
    assert_eq!(
        names,
        [
            ("norm.momentum", 0.9),
            ("norm.epsilon", 1e-5),
            ("act.negative_slope", 0.1),
            ("drop.rate", 0.2),
        ]
    );
}

fn compiled<M>(
    model: M,
    dev: &Cpu,
) -> Trainer<M, keras_core::optimizers::KerasOptimizer<Sgd>, losses::MeanSquaredError, (), (), Cpu>
where
    M: keras_core::dfdx::nn::tensor_collection::TensorCollection<f32, Cpu>,
{
    Trainer::compile(
        model,
        Sgd::new().with_momentum(0.5).build().unwrap(),
        losses::MeanSquaredError::default(),
        (),
        dev,
    )
    .unwrap()
}

#[test]
fn a_checkpoint_saved_with_other_hyper_parameters_is_refused_by_every_door_and_changes_nothing() {
    let dev = Cpu::seed_from_u64(0);
    let mut tuned = compiled(Tuned::<f32, Cpu>::build(&dev), &dev);
    let dir = std::env::temp_dir().join(format!("hyper-ckpt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (weights, checkpoint, callback) = (
        dir.join("weights.safetensors"),
        dir.join("checkpoint.safetensors"),
        dir.join("callback.safetensors"),
    );
    tuned.save_weights(&weights).unwrap();
    tuned.save_checkpoint(&checkpoint).unwrap();
    let x: Vec<f32> = (0..4 * 6).map(|i| (i % 5) as f32 - 2.0).collect();
    let data = ArrayDataset::<Rank1<4>, DenseTarget<1>>::new(x, vec![0.5; 6]).unwrap();
    tuned
        .fit(&data)
        .epochs(1)
        .batch_size(3)
        .verbose(0)
        .callbacks(ModelCheckpoint::new(&callback).unwrap())
        .run()
        .unwrap();

    let mut untuned = compiled(Untuned::<f32, Cpu>::build(&Cpu::seed_from_u64(1)), &dev);
    let before = untuned.weights().values.clone();
    let stats = untuned.non_trainable_weights().unwrap().values;
    let refused = |err: keras_core::Error| {
        let text = err.to_string();
        assert!(
            matches!(err, keras_core::Error::Checkpoint { .. })
                && text.contains("`norm.momentum` is 0.99 in the model but 0.9 in the file"),
            "{text}"
        );
    };
    refused(untuned.load_weights(&weights).unwrap_err());
    refused(untuned.load_checkpoint(&checkpoint).unwrap_err());
    refused(untuned.load_weights(&callback).unwrap_err());
    refused(untuned.load_checkpoint(&callback).unwrap_err());
    assert_eq!(untuned.weights().values, before);
    assert_eq!(untuned.non_trainable_weights().unwrap().values, stats);

    // Each file loads into the model it was saved from.
    let mut again = compiled(Tuned::<f32, Cpu>::build(&Cpu::seed_from_u64(2)), &dev);
    again.load_weights(&weights).unwrap();
    again.load_checkpoint(&checkpoint).unwrap();
    again.load_checkpoint(&callback).unwrap();
    assert_eq!(again.weights().values, tuned.weights().values);
    std::fs::remove_dir_all(&dir).ok();
}
