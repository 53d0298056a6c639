//! Layer forward values against Keras: the golden `fit.json` predictions, hand-computed values,
//! batch handling, training versus inference behaviour, parameter counts and names. On
//! [`TestDevice`](common::TestDevice): `Cpu`, or `Cuda` with the `cuda` feature.

mod common;

use common::{compare, load, Case, Report, TestDevice};
use keras_core::dfdx::optim::{Optimizer, Sgd, SgdConfig};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{
    AvgPool2D, BatchNormalization, Conv2D, Dense, Dropout, Embedding, Flatten,
    GlobalAveragePooling2D, LayerNormalization, MaxPool2D, ReLU, Softmax,
};

/// Builds the case's model with Keras's final weights and predicts `x_val`.
fn predict_with_final_weights(dev: &TestDevice, case: &Case) -> Result<Vec<f32>, String> {
    let w = |k: &str| {
        case.expected
            .get(k)
            .map(|a| a.f32())
            .ok_or_else(|| format!("missing {k}"))
    };
    let x = case.inputs.get("x_val").ok_or("missing x_val")?;
    let batch = x.shape[0];
    let err = |e: keras_core::Error| e.to_string();
    if case.expected.contains_key("final_kernel_1") {
        let mut hidden = dev.build_module::<Dense<4, 8, ReLU>, f32>();
        let mut out = dev.build_module::<Dense<8, 3>, f32>();
        hidden
            .set_weights(&w("final_kernel_0")?, &w("final_bias_0")?)
            .map_err(err)?;
        out.set_weights(&w("final_kernel_1")?, &w("final_bias_1")?)
            .map_err(err)?;
        let x: Tensor<(usize, Const<4>), f32, TestDevice> =
            dev.tensor_from_vec(x.f32(), (batch, Const));
        Ok(out.forward(hidden.forward(x)).as_vec())
    } else {
        let mut layer = dev.build_module::<Dense<3, 1>, f32>();
        layer
            .set_weights(&w("final_kernel_0")?, &w("final_bias_0")?)
            .map_err(err)?;
        let x: Tensor<(usize, Const<3>), f32, TestDevice> =
            dev.tensor_from_vec(x.f32(), (batch, Const));
        Ok(layer.forward(x).as_vec())
    }
}

#[test]
fn dense_stacks_with_keras_final_weights_predict_keras_values() {
    let golden = load("fit.json");
    let dev = TestDevice::default();
    let mut report = Report::default();
    for case in &golden.cases {
        let outcome = predict_with_final_weights(&dev, case)
            .and_then(|got| compare(&got, &case.expected["predict_val"], 1e-4));
        report.record(&case.name, outcome);
    }
    report.finish(golden.cases.len());
}

#[test]
fn dense_handles_any_batch_size_row_by_row() {
    let dev = TestDevice::seed_from_u64(0);
    let model = dev.build_module::<(Dense<4, 8, ReLU>, Dense<8, 3, Softmax>), f32>();
    for n in [1usize, 7, 64] {
        let x: Tensor<(usize, Const<4>), f32, TestDevice> = dev.sample_normal_like(&(n, Const));
        let rows = x.as_vec();
        let y = model.forward(x);
        assert_eq!(y.shape(), &(n, Const::<3>));
        let y = y.as_vec();
        // every row of a batch equals the same row predicted alone (a partial batch of one)
        for i in [0, n / 2, n - 1] {
            let xi: Tensor<(usize, Const<4>), f32, TestDevice> =
                dev.tensor_from_vec(rows[i * 4..i * 4 + 4].to_vec(), (1, Const));
            let yi = model.forward(xi).as_vec();
            for j in 0..3 {
                assert!((y[i * 3 + j] - yi[j]).abs() < 1e-6);
            }
        }
    }
}

#[test]
fn dropout_is_identity_at_inference_and_scales_kept_units_in_training() {
    let dev = TestDevice::seed_from_u64(1);
    let mut dropout = Dropout::new(0.3).unwrap();
    let x: Tensor<(usize, Const<100>), f32, TestDevice> = dev.ones_like(&(100, Const));
    assert_eq!(dropout.forward(x.clone()).as_vec(), x.as_vec());
    assert_eq!(dropout.forward_mut(x.clone()).as_vec(), x.as_vec());
    let y = dropout.forward_mut(x.leaky_trace()).as_vec();
    let kept = 1.0 / 0.7f32;
    assert!(y.iter().all(|&v| v == 0.0 || (v - kept).abs() < 1e-6));
    let dropped = y.iter().filter(|&&v| v == 0.0).count() as f64 / y.len() as f64;
    assert!((dropped - 0.3).abs() < 0.03, "dropped fraction {dropped}");
    let mean = y.iter().sum::<f32>() / y.len() as f32;
    assert!(
        (mean - 1.0).abs() < 0.05,
        "inverted dropout keeps the mean, got {mean}"
    );
}

#[test]
fn batch_normalization_trains_on_batch_statistics_and_infers_with_moving_ones() {
    let dev = TestDevice::default();
    let mut bn = dev.build_module::<BatchNormalization<1>, f64>();
    let x: Tensor<(usize, Const<1>), f64, TestDevice> =
        dev.tensor_from_vec(vec![2.0, 4.0, 6.0, 8.0], (4, Const));
    // inference before any training: moving mean 0, variance 1
    let y = bn.forward(x.clone()).as_vec();
    assert!((y[0] - 2.0 / 1.001f64.sqrt()).abs() < 1e-12);
    // training: batch mean 5, biased variance 5
    let y = bn.forward_mut(x.leaky_trace()).as_vec();
    assert!((y[0] - (-3.0 / 5.001f64.sqrt())).abs() < 1e-12);
    assert!((bn.moving_mean.as_vec()[0] - 0.05).abs() < 1e-12);
    assert!((bn.moving_variance.as_vec()[0] - (0.99 + 0.05)).abs() < 1e-12);
    // many training steps converge the moving statistics to the batch's
    for _ in 0..2000 {
        let _ = bn.forward_mut(x.leaky_trace());
    }
    assert!((bn.moving_mean.as_vec()[0] - 5.0).abs() < 1e-6);
    assert!((bn.moving_variance.as_vec()[0] - 5.0).abs() < 1e-6);
    let infer = bn.forward(x.clone()).as_vec();
    let train = bn.forward_mut(x.leaky_trace()).as_vec();
    for (a, b) in infer.iter().zip(&train) {
        assert!((a - b).abs() < 1e-6);
    }
}

#[test]
fn trainable_parameter_counts_match_keras() {
    let dev = TestDevice::default();
    assert_eq!(
        dev.build_module::<Dense<4, 8>, f32>()
            .num_trainable_params(),
        40
    );
    assert_eq!(
        dev.build_module::<Dense<8, 3>, f32>()
            .num_trainable_params(),
        27
    );
    assert_eq!(
        dev.build_module::<Dense<3, 1>, f32>()
            .num_trainable_params(),
        4
    );
    let conv = dev.build_module::<Conv2D<3, 16, 3, 30, 30>, f32>();
    assert_eq!(conv.num_trainable_params(), 448);
    // Keras: 32 params, 16 trainable (moving statistics are non-trainable)
    let bn = dev.build_module::<BatchNormalization<8>, f32>();
    assert_eq!(bn.num_trainable_params(), 16);
    assert_eq!(
        dev.build_module::<LayerNormalization<8>, f32>()
            .num_trainable_params(),
        16
    );
    let emb = dev.build_module::<Embedding<1000, 64>, f32>();
    assert_eq!(emb.num_trainable_params(), 64_000);
    let stateless = dev.build_module::<(
        ReLU,
        Dropout,
        Flatten<4>,
        MaxPool2D<2, 1, 1>,
        AvgPool2D<2, 1, 1>,
        GlobalAveragePooling2D,
    ), f32>();
    assert_eq!(
        NumParams::<f32, TestDevice>::num_trainable_params(&stateless),
        0
    );
}

type Mixed = (Dense<4, 8, ReLU>, Conv2D<1, 2, 3, 2, 2>, Embedding<10, 4>);

#[test]
fn same_seed_builds_the_same_weights_and_other_seeds_differ() {
    let weights = |seed: u64| {
        let dev = TestDevice::seed_from_u64(seed);
        let m = dev.build_module::<Mixed, f32>();
        [
            m.0.kernel.as_vec(),
            m.1.kernel.as_vec(),
            m.2.embeddings.as_vec(),
        ]
    };
    assert_eq!(weights(42), weights(42));
    let (a, b) = (weights(42), weights(43));
    for i in 0..3 {
        assert_ne!(a[i], b[i]);
    }
}

type Saved = (
    Dense<2, 3, ReLU>,
    BatchNormalization<3>,
    LayerNormalization<3>,
);

#[test]
fn parameters_and_hyper_parameters_save_and_load_under_keras_names() {
    let dev = TestDevice::seed_from_u64(5);
    let mut model = dev.build_module::<Saved, f32>();
    model.1.moving_mean = dev.sample_normal();
    model.1.momentum = 0.9;
    model.2.epsilon = 1e-5;
    let path =
        std::env::temp_dir().join(format!("keras-layers-{}.safetensors", std::process::id()));
    model.save_safetensors(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let file = ::safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = file.names().into_iter().cloned().collect();
    names.sort();
    // The layers' hyper-parameters are scalars of the file, under Keras's config names.
    let want = [
        "0.bias",
        "0.kernel",
        "1.beta",
        "1.epsilon",
        "1.gamma",
        "1.momentum",
        "1.moving_mean",
        "1.moving_variance",
        "2.beta",
        "2.epsilon",
        "2.gamma",
    ];
    assert_eq!(names, want);
    assert_eq!(file.tensor("0.kernel").unwrap().shape(), &[2, 3]);
    let mut loaded = TestDevice::seed_from_u64(6).build_module::<Saved, f32>();
    loaded.load_safetensors(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    assert_eq!(loaded.0.kernel.as_vec(), model.0.kernel.as_vec());
    assert_eq!(loaded.1.moving_mean.as_vec(), model.1.moving_mean.as_vec());
    assert_eq!((loaded.1.momentum, loaded.2.epsilon), (0.9, 1e-5));
}

#[test]
fn layers_convert_to_f64_without_changing_values() {
    let dev = TestDevice::seed_from_u64(7);
    let model = dev.build_module::<(Dense<3, 2>, BatchNormalization<2>), f32>();
    let wide: (
        Dense<3, 2, _, f64, TestDevice>,
        BatchNormalization<2, f64, TestDevice>,
    ) = model.to_dtype::<f64>();
    let narrow: Vec<f64> = model.0.kernel.as_vec().iter().map(|&v| v as f64).collect();
    assert_eq!(wide.0.kernel.as_vec(), narrow);
    assert_eq!(wide.1.moving_variance.as_vec(), vec![1.0, 1.0]);
}

type Cnn = (
    Conv2D<1, 4, 3, 6, 6, 1, 1, ReLU>,
    BatchNormalization<4>,
    MaxPool2D<2, 3, 3>,
    Flatten<36>,
    Dropout,
    Dense<36, 3>,
);

#[test]
fn layers_compose_in_a_dfdx_tuple_and_train_with_an_optimizer() {
    let dev = TestDevice::seed_from_u64(8);
    let mut model = dev.build_module::<Cnn, f32>();
    let mut opt = Sgd::new(
        &model,
        SgdConfig {
            lr: 0.1,
            ..Default::default()
        },
    );
    let x: Tensor<(usize, Const<6>, Const<6>, Const<1>), f32, TestDevice> =
        dev.sample_normal_like(&(5, Const, Const, Const));
    let target: Tensor<(usize, Const<3>), f32, TestDevice> = dev.sample_normal_like(&(5, Const));
    let kernel_before = model.0.kernel.as_vec();
    let mut losses = Vec::new();
    for _ in 0..5 {
        let grads = model.alloc_grads();
        let y = model.forward_mut(x.trace(grads));
        let loss = (y - target.clone()).square().mean::<Rank0, _>();
        losses.push(loss.array());
        let grads = loss.backward();
        opt.update(&mut model, &grads).unwrap();
    }
    assert_ne!(model.0.kernel.as_vec(), kernel_before);
    assert_ne!(model.1.moving_mean.as_vec(), vec![0.0; 4]);
    assert!(losses[4] < losses[0], "loss should fall: {losses:?}");
    let y = model.forward(x);
    assert_eq!(y.shape(), &(5, Const::<3>));
}
