//! Every case of `tests/fixtures/keras/fit.json`: end-to-end `fit` / `evaluate` / `predict`
//! against Keras 3.15.1 (histories, running batch losses, weights per epoch, final weights).
//! Each case trains three times on [`TestDevice`](common::TestDevice), each against Keras's
//! numbers: with the loss and metrics on the host; with the loss, the loss tracker and the
//! metrics on the device (`Trainer::set_loss_on_device`, `Trainer::set_metrics_on_device`) and
//! read after every batch; and the same read once per epoch (no callback reads batch logs).

mod common;

use common::keras_config::{base_options, Cfg};
use common::{compare, load, load_cases, test_device, Case, Report, TestDevice, DEVICE_TOL_FACTOR};
use keras_core::callbacks::{Callback, CallbackContext};
use keras_core::data::{ArrayDataset, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Conv2D, Dense, Flatten, MaxPool2D, ReLU};
use keras_core::losses::{Loss, MeanSquaredError, SparseCategoricalCrossentropy};
use keras_core::metrics::{MeanAbsoluteError, MetricSet, ResolvedAccuracy};
use keras_core::optimizers::{
    Adadelta, Adagrad, Adam, AdamW, Adamax, Lion, Nadam, Optimizer, OptimizerBuilder, RMSprop, Sgd,
    UpdateRule,
};
use keras_core::target::{Dense as DenseTarget, Sparse, Target};
use keras_core::trainer::TrainModel;
use keras_core::{Result, Sequential, Trainer};

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    logits: Dense<8, 3, keras_core::layers::Linear, E, D>,
}

/// `fit_conv.json`'s convnet on 12x12x1 images (`make_fit_conv.py`).
#[derive(Sequential)]
struct ConvNet<E: Dtype, D: Device<E>> {
    conv_1: Conv2D<1, 4, 3, 10, 10, 1, 0, ReLU, E, D>,
    pool_1: MaxPool2D<2, 5, 5>,
    conv_2: Conv2D<4, 8, 3, 3, 3, 1, 0, ReLU, E, D>,
    pool_2: MaxPool2D<2, 1, 1>,
    flatten: Flatten<8>,
    logits: Dense<8, 3, keras_core::layers::Linear, E, D>,
}

#[derive(Sequential)]
struct Regressor<E: Dtype, D: Device<E>> {
    out: Dense<3, 1, keras_core::layers::Linear, E, D>,
}

/// Where a case's step computes the loss and the metrics, and when the host reads them.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Where {
    /// Loss and metrics on the host.
    Host,
    /// Loss, loss tracker and row-form metrics on the device, read after every batch.
    Device,
    /// As `Device`, read once per epoch: the recorder reads no batch logs.
    DeviceEpochReads,
}

/// Records what Keras's test recorded: running loss per batch (when it reads batch logs),
/// weights per epoch.
struct Recorder {
    batch_logs: bool,
    batch_loss: Vec<f32>,
    epoch_weights: Vec<Vec<f32>>,
}

impl Callback for Recorder {
    fn reads_batch_logs(&self) -> bool {
        self.batch_logs
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, _: usize, ctx: &mut C) -> Result<()> {
        self.batch_loss
            .push(ctx.logs().get("loss").unwrap_or(f32::NAN));
        Ok(())
    }
    fn on_epoch_end<C: CallbackContext>(&mut self, _: usize, ctx: &mut C) -> Result<()> {
        self.epoch_weights.push(ctx.weights()?.values.clone());
        Ok(())
    }
}

fn f32s(case: &Case, key: &str) -> Vec<f32> {
    case.inputs[key].f32()
}

/// Builds the case's optimizer (any class the harness knows, with Keras's base options) and runs
/// the case with it, with the loss on the device or on the host. An optimizer key the harness
/// does not read is a failure naming it.
fn with_optimizer(case: &Case, place: Where) -> std::result::Result<(), String> {
    let c = Cfg::new(&case.config["optimizer"]);
    let lr = c.f64("learning_rate") as f32;
    macro_rules! go {
        ($builder:expr) => {{
            let builder = base_options($builder.with_learning_rate(lr), &c);
            c.check_all_used("optimizer")?;
            run_model(case, place, builder)
        }};
    }
    macro_rules! moments {
        ($builder:expr) => {
            $builder
                .with_beta_1(c.f64("beta_1"))
                .with_beta_2(c.f64("beta_2"))
                .with_epsilon(c.f64("epsilon"))
        };
    }
    match c.get("class").as_str() {
        Some("SGD") => go!(Sgd::new()
            .with_momentum(c.f64("momentum"))
            .with_nesterov(c.bool("nesterov"))),
        Some("Adam") => go!(moments!(Adam::new()).with_amsgrad(c.bool("amsgrad"))),
        Some("AdamW") => go!(moments!(AdamW::new()).with_amsgrad(c.bool("amsgrad"))),
        Some("Adamax") => go!(moments!(Adamax::new())),
        Some("Nadam") => go!(moments!(Nadam::new())),
        Some("RMSprop") => go!(RMSprop::new()
            .with_rho(c.f64("rho"))
            .with_momentum(c.f64("momentum"))
            .with_epsilon(c.f64("epsilon"))
            .with_centered(c.bool("centered"))),
        Some("Adagrad") => go!(Adagrad::new()
            .with_initial_accumulator_value(c.f64("initial_accumulator_value"))
            .with_epsilon(c.f64("epsilon"))),
        Some("Adadelta") => go!(Adadelta::new()
            .with_rho(c.f64("rho"))
            .with_epsilon(c.f64("epsilon"))),
        Some("Lion") => go!(Lion::new()
            .with_beta_1(c.f64("beta_1"))
            .with_beta_2(c.f64("beta_2"))),
        other => Err(format!("unhandled optimizer {other:?}")),
    }
}

fn run_model<U: UpdateRule>(
    case: &Case,
    place: Where,
    builder: OptimizerBuilder<U>,
) -> std::result::Result<(), String> {
    let optimizer = builder.build().map_err(|e| e.to_string())?;
    let dev = test_device(0);
    let model_kind = case.config["model"].as_str().unwrap_or_default();
    if model_kind.starts_with("Dense(4->8, relu)") {
        let mut model = Mlp::<f32, TestDevice>::build(&dev);
        model
            .hidden
            .set_weights(&f32s(case, "init_kernel_0"), &f32s(case, "init_bias_0"))
            .map_err(|e| e.to_string())?;
        model
            .logits
            .set_weights(&f32s(case, "init_kernel_1"), &f32s(case, "init_bias_1"))
            .map_err(|e| e.to_string())?;
        let loss = SparseCategoricalCrossentropy::default().with_from_logits(true);
        run::<Rank1<4>, 3, Sparse, _, _, _, _>(
            case,
            model,
            optimizer,
            loss,
            (ResolvedAccuracy::<Sparse>::default(),),
            &dev,
            place,
        )
    } else if model_kind.starts_with("Conv2D(1->4, 3, relu) -> MaxPooling2D(2)") {
        let mut model = ConvNet::<f32, TestDevice>::build(&dev);
        let w = |key: &str| f32s(case, key);
        let set = |r: Result<()>| r.map_err(|e| e.to_string());
        set(model
            .conv_1
            .set_weights(&w("init_kernel_0"), &w("init_bias_0")))?;
        set(model
            .conv_2
            .set_weights(&w("init_kernel_1"), &w("init_bias_1")))?;
        set(model
            .logits
            .set_weights(&w("init_kernel_2"), &w("init_bias_2")))?;
        let loss = SparseCategoricalCrossentropy::default().with_from_logits(true);
        run::<Rank3<12, 12, 1>, 3, Sparse, _, _, _, _>(
            case,
            model,
            optimizer,
            loss,
            (ResolvedAccuracy::<Sparse>::default(),),
            &dev,
            place,
        )
    } else if model_kind.starts_with("Dense(3->1") {
        let mut model = Regressor::<f32, TestDevice>::build(&dev);
        model
            .out
            .set_weights(&f32s(case, "init_kernel_0"), &f32s(case, "init_bias_0"))
            .map_err(|e| e.to_string())?;
        run::<Rank1<3>, 1, DenseTarget<1>, _, _, _, _>(
            case,
            model,
            optimizer,
            MeanSquaredError::default(),
            (MeanAbsoluteError::default(),),
            &dev,
            place,
        )
    } else {
        Err(format!("unhandled model {model_kind}"))
    }
}

fn run<S, const K: usize, T, M, O, L, Mt>(
    case: &Case,
    model: M,
    optimizer: O,
    loss: L,
    metrics: Mt,
    dev: &TestDevice,
    place: Where,
) -> std::result::Result<(), String>
where
    S: keras_core::data::SampleShape,
    T: Target,
    M: TrainModel<S, K, TestDevice>,
    O: Optimizer,
    L: Loss<K, Target = T>,
    Mt: MetricSet<K, T>,
{
    let e = |e: keras_core::Error| e.to_string();
    let mut train =
        ArrayDataset::<S, T>::new(f32s(case, "x_train"), f32s(case, "y_train")).map_err(e)?;
    if case.config["sample_weight"].as_bool() == Some(true) {
        train = train
            .with_sample_weight(f32s(case, "sample_weight"))
            .map_err(e)?;
    }
    let val = ArrayDataset::<S, T>::new(f32s(case, "x_val"), f32s(case, "y_val")).map_err(e)?;
    let mut trainer = Trainer::compile(model, optimizer, loss, metrics, dev).map_err(e)?;
    trainer.set_loss_on_device(place != Where::Host);
    trainer.set_metrics_on_device(place != Where::Host);
    let mut recorder = Recorder {
        batch_logs: place != Where::DeviceEpochReads,
        batch_loss: Vec::new(),
        epoch_weights: Vec::new(),
    };
    let batch_size = case.config["batch_size"].as_u64().ok_or("batch_size")? as usize;
    let epochs = case.config["epochs"].as_u64().ok_or("epochs")? as usize;
    let mut fit = trainer
        .fit(&train)
        .epochs(epochs)
        .batch_size(batch_size)
        .shuffle(Shuffle::None)
        .verbose(0);
    if case.inputs.contains_key("class_weight") {
        fit = fit.class_weight(f32s(case, "class_weight"));
    }
    let history = fit
        .validation_data(&val)
        .callbacks(&mut recorder)
        .run()
        .map_err(e)?;

    let mut failures = Vec::new();
    let mut check = |what: &str, got: &[f32], tol: f64| {
        if let Err(msg) = compare(got, &case.expected[what], tol * DEVICE_TOL_FACTOR) {
            failures.push(format!("{what}: {msg}"));
        }
    };
    for key in case.config["history_keys"]
        .as_array()
        .ok_or("history_keys")?
    {
        let key = key.as_str().ok_or("history key")?;
        let got = history.get(key).ok_or(format!("history has no {key}"))?;
        let tol = if key.contains("accuracy") { 0.0 } else { 1e-5 };
        check(&format!("history_{key}"), got, tol);
    }
    if recorder.batch_logs {
        check("batch_running_loss", &recorder.batch_loss, 1e-5);
    }
    // Weights: the flat layout is [kernel_0, bias_0, kernel_1, bias_1, ...] in field order,
    // one pair per layer with weights, as many as the case has initial kernels.
    let names: Vec<String> = (0..)
        .take_while(|i| case.inputs.contains_key(&format!("init_kernel_{i}")))
        .flat_map(|i| [format!("kernel_{i}"), format!("bias_{i}")])
        .collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let split = |flat: &[f32]| -> Vec<Vec<f32>> {
        let mut out = Vec::new();
        let mut at = 0;
        for v in &trainer_layout(&names, case) {
            out.push(flat[at..at + v].to_vec());
            at += v;
        }
        out
    };
    let final_weights = split(&trainer.weights().values);
    for (name, got) in names.iter().zip(&final_weights) {
        check(&format!("final_{name}"), got, 1e-4);
    }
    for (i, name) in names.iter().enumerate() {
        let per_epoch: Vec<f32> = recorder
            .epoch_weights
            .iter()
            .flat_map(|w| split(w)[i].clone())
            .collect();
        check(&format!("epoch_{name}"), &per_epoch, 1e-4);
    }
    let ev = trainer.evaluate(&val).run().map_err(e)?;
    let ev5 = trainer.evaluate(&val).batch_size(5).run().map_err(e)?;
    for key in ["loss", if K == 3 { "accuracy" } else { "mae" }] {
        let tol = if key == "accuracy" { 0.0 } else { 1e-5 };
        check(
            &format!("evaluate_{key}"),
            &[ev.get(key).ok_or("evaluate key")?],
            tol,
        );
        check(
            &format!("evaluate_bs5_{key}"),
            &[ev5.get(key).ok_or("evaluate key")?],
            tol,
        );
    }
    let pred = trainer.predict(&val).run().map_err(e)?;
    check("predict_val", &pred, 1e-4);
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("; "))
    }
}

/// Sizes of the weights named in `names`, read from the case's initial weights.
fn trainer_layout(names: &[&str], case: &Case) -> Vec<usize> {
    names
        .iter()
        .map(|n| case.inputs[&format!("init_{n}")].data.len())
        .collect()
}

/// Every case of `fit.json` (the public fixture), `fit_more.json` (norm clipping with sample
/// weights, weight decay, more optimizers; `make_fit_more.py` beside it) and `fit_conv.json` (a
/// convnet with two convolutions and max pooling; `make_fit_conv.py`), whatever their number.
#[test]
fn every_keras_fit_case_matches() {
    let mut cases = load_cases("fit");
    cases.extend(load("fit_conv.json").cases);
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, with_optimizer(case, Where::Host));
        report.record(
            &format!("{} (loss and metrics on the device)", case.name),
            with_optimizer(case, Where::Device),
        );
        report.record(
            &format!("{} (on the device, read once per epoch)", case.name),
            with_optimizer(case, Where::DeviceEpochReads),
        );
    }
    report.finish(3 * cases.len());
}
