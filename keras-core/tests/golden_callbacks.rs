//! Keras golden cases for `EarlyStopping` and `ReduceLROnPlateau` (`callbacks.json`, README §7):
//! the real callbacks driven epoch by epoch through a mock trainer, as Keras's generator drove
//! Keras's own. And `History` under a real `fit` with `ReduceLROnPlateau`
//! (`tests/data/keras_history_lr.json`, made by `make_keras_history_lr.py` beside it): the
//! learning rate of every epoch, as Keras logs it.

mod common;

use common::{compare, load, load_cases, Array, Case, Report};
use keras_core::callbacks::{
    Callback, CallbackContext, EarlyStopping, Logs, Mode, ReduceLROnPlateau, RunParams,
};
use keras_core::metrics::Direction;
use keras_core::optimizers::FlatParams;
use keras_core::{Error, Result};

/// A trainer stand-in: logs, weights, a learning rate and a stop flag.
struct MockTrainer {
    logs: Logs,
    weights: FlatParams,
    lr: f32,
    stop: bool,
    set_weights_calls: usize,
}

impl MockTrainer {
    fn new(lr: f32) -> Self {
        // Keras's fixture model: one Dense(2) layer on 2 inputs.
        let weights =
            FlatParams::from_layout([("dense.kernel", &[2usize, 2][..]), ("dense.bias", &[2][..])]);
        Self {
            logs: Logs::new(),
            weights,
            lr,
            stop: false,
            set_weights_calls: 0,
        }
    }

    /// Fills every weight with the epoch index, so restored weights reveal their epoch.
    fn stamp_weights(&mut self, epoch: usize) {
        self.weights
            .values
            .iter_mut()
            .for_each(|w| *w = epoch as f32);
    }

    /// The fixture's logs, with the monitored key overwritten by the scripted value.
    fn set_epoch_logs(&mut self, epoch: usize, monitor: &str, value: f32) {
        self.logs.clear();
        self.logs.set("loss", 1.0 / (epoch as f32 + 1.0));
        self.logs.set("accuracy", 0.5);
        self.logs.set("val_loss", 1.0);
        self.logs.set("val_accuracy", 0.5);
        self.logs.set(monitor, value);
    }
}

impl CallbackContext for MockTrainer {
    fn logs(&self) -> &Logs {
        &self.logs
    }
    fn logs_mut(&mut self) -> &mut Logs {
        &mut self.logs
    }
    fn stop_training(&mut self) {
        self.stop = true;
    }
    fn stop_requested(&self) -> bool {
        self.stop
    }
    fn params(&self) -> RunParams {
        RunParams::default()
    }
    fn learning_rate(&self) -> f32 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        self.lr = lr;
        Ok(())
    }
    fn iterations(&self) -> u64 {
        0
    }
    fn weights(&mut self) -> Result<&FlatParams> {
        Ok(&self.weights)
    }
    fn set_weights(&mut self, values: &[f32]) -> Result<()> {
        if values.len() != self.weights.values.len() {
            return Err(Error::invalid("values", "wrong length"));
        }
        self.weights.values.copy_from_slice(values);
        self.set_weights_calls += 1;
        Ok(())
    }
    fn optimizer_state(&mut self) -> Result<Vec<(String, Vec<f32>)>> {
        Ok(Vec::new())
    }
    fn load_optimizer_state(&mut self, _state: &[(String, Vec<f32>)]) -> Result<()> {
        Ok(())
    }
    fn metric_direction(&self, name: &str) -> Option<Direction> {
        // The fixture model compiles `metrics=["accuracy"]`, whose direction is "up".
        (name == "accuracy").then_some(Direction::Up)
    }
}

fn cfg_str<'a>(case: &'a Case, key: &str) -> Result<&'a str, String> {
    case.config[key]
        .as_str()
        .ok_or_else(|| format!("config.{key} is not a string"))
}

fn cfg_f64(case: &Case, key: &str) -> Result<f64, String> {
    case.config[key]
        .as_f64()
        .ok_or_else(|| format!("config.{key} is not a number"))
}

fn cfg_usize(case: &Case, key: &str) -> Result<usize, String> {
    case.config[key]
        .as_u64()
        .map(|v| v as usize)
        .ok_or_else(|| format!("config.{key} is not a non-negative integer"))
}

fn mode(case: &Case) -> Result<Mode, String> {
    match cfg_str(case, "mode")? {
        "auto" => Ok(Mode::Auto),
        "min" => Ok(Mode::Min),
        "max" => Ok(Mode::Max),
        other => Err(format!("unknown mode {other}")),
    }
}

fn expected_direction(case: &Case) -> Result<Direction, String> {
    match cfg_str(case, "resolved_direction")? {
        "min" => Ok(Direction::Down),
        "max" => Ok(Direction::Up),
        other => Err(format!("unknown resolved_direction {other}")),
    }
}

/// The scripted monitor values, one per epoch of `max_epochs`.
fn monitor_values(case: &Case) -> Result<Vec<f32>, String> {
    let values = case
        .inputs
        .get("monitor_values")
        .ok_or("inputs has no `monitor_values`")?
        .f32();
    let max_epochs = cfg_usize(case, "max_epochs")?;
    if values.len() != max_epochs {
        return Err(format!(
            "{} monitor values for max_epochs {max_epochs}",
            values.len()
        ));
    }
    Ok(values)
}

fn expect<'a>(case: &'a Case, key: &str) -> Result<&'a Array, String> {
    case.expected
        .get(key)
        .ok_or_else(|| format!("expected.{key} missing"))
}

/// Compares exactly in `f32`: integers, monitored values and learning rates must equal the
/// expected value rounded to `f32` (the README's "exact in f32"; the file's f64 text of a few
/// values differs from the f32 value in the 17th digit, so comparing in f64 would be wrong).
fn check(case: &Case, key: &str, got: &[f32]) -> Result<(), String> {
    let expected = expect(case, key)?;
    compare(got, expected, 1e-7).map_err(|e| format!("{key}: {e}"))?;
    match got.iter().zip(expected.f32()).position(|(&g, e)| g != e) {
        Some(i) => Err(format!(
            "{key}: element {i}: got {}, expected {} in f32",
            got[i], expected.data[i]
        )),
        None => Ok(()),
    }
}

fn run_early_stopping(case: &Case) -> Result<(), String> {
    let monitor = cfg_str(case, "monitor")?;
    let values = monitor_values(case)?;
    let mut es = EarlyStopping::new()
        .with_monitor(monitor)
        .with_min_delta(cfg_f64(case, "min_delta")?)
        .with_patience(cfg_usize(case, "patience")?)
        .with_mode(mode(case)?)
        .with_restore_best_weights(
            case.config["restore_best_weights"]
                .as_bool()
                .unwrap_or(false),
        )
        .with_start_from_epoch(cfg_usize(case, "start_from_epoch")?);
    if let Some(b) = case.config["baseline"].as_f64() {
        es = es.with_baseline(b);
    }
    let mut ctx = MockTrainer::new(0.1);
    let (mut waits, mut bests, mut best_set) = (vec![], vec![], vec![]);
    es.on_train_begin(&mut ctx).map_err(|e| e.to_string())?;
    for (epoch, &value) in values.iter().enumerate() {
        es.on_epoch_begin(epoch, &mut ctx)
            .map_err(|e| e.to_string())?;
        ctx.stamp_weights(epoch);
        ctx.set_epoch_logs(epoch, monitor, value);
        es.on_epoch_end(epoch, &mut ctx)
            .map_err(|e| e.to_string())?;
        waits.push(es.wait() as f32);
        bests.push(es.best().unwrap_or(0.0));
        best_set.push(if es.best().is_some() { 1.0 } else { 0.0 });
        if ctx.stop_requested() {
            break;
        }
    }
    es.on_train_end(&mut ctx).map_err(|e| e.to_string())?;
    if es.monitor().direction() != Some(expected_direction(case)?) {
        return Err(format!("resolved direction {:?}", es.monitor().direction()));
    }
    check(case, "epochs_run", &[waits.len() as f32])?;
    check(case, "stopped_early", &[if ctx.stop { 1.0 } else { 0.0 }])?;
    check(
        case,
        "stopped_epoch",
        &[es.stopped_epoch().map_or(-1.0, |e| e as f32)],
    )?;
    check(case, "best_epoch", &[es.best_epoch() as f32])?;
    check(
        case,
        "weights_restored",
        &[if ctx.set_weights_calls > 0 { 1.0 } else { 0.0 }],
    )?;
    let epochs_held: Vec<f32> = ctx.weights.values.clone();
    if epochs_held.iter().any(|&w| w != epochs_held[0]) {
        return Err(format!("weights mix epochs: {epochs_held:?}"));
    }
    check(case, "final_weights_epoch", &epochs_held[..1])?;
    check(case, "wait_after_epoch", &waits)?;
    check(case, "best_after_epoch", &bests)?;
    check(case, "best_is_set_after_epoch", &best_set)
}

fn run_reduce_lr(case: &Case) -> Result<(), String> {
    let monitor = cfg_str(case, "monitor")?;
    let values = monitor_values(case)?;
    let mut cb = ReduceLROnPlateau::new()
        .with_monitor(monitor)
        .with_factor(cfg_f64(case, "factor")?)
        .map_err(|e| e.to_string())?
        .with_patience(cfg_usize(case, "patience")?)
        .with_mode(mode(case)?)
        .with_min_delta(cfg_f64(case, "min_delta")?)
        .with_cooldown(cfg_usize(case, "cooldown")?)
        .with_min_lr(cfg_f64(case, "min_lr")?);
    // The optimizer stores its learning rate in a float32 variable.
    let mut ctx = MockTrainer::new(cfg_f64(case, "initial_learning_rate")? as f32);
    let (mut during, mut after, mut waits, mut cooldowns) = (vec![], vec![], vec![], vec![]);
    cb.on_train_begin(&mut ctx).map_err(|e| e.to_string())?;
    for (epoch, &value) in values.iter().enumerate() {
        cb.on_epoch_begin(epoch, &mut ctx)
            .map_err(|e| e.to_string())?;
        ctx.stamp_weights(epoch);
        ctx.set_epoch_logs(epoch, monitor, value);
        cb.on_epoch_end(epoch, &mut ctx)
            .map_err(|e| e.to_string())?;
        during.push(
            ctx.logs
                .get("learning_rate")
                .ok_or("no learning_rate in the logs")?,
        );
        after.push(ctx.lr);
        waits.push(cb.wait() as f32);
        cooldowns.push(cb.cooldown_counter() as f32);
        if ctx.stop_requested() {
            break;
        }
    }
    cb.on_train_end(&mut ctx).map_err(|e| e.to_string())?;
    if cb.monitor().direction() != Some(expected_direction(case)?) {
        return Err(format!("resolved direction {:?}", cb.monitor().direction()));
    }
    check(case, "learning_rate_during_epoch", &during)?;
    check(case, "learning_rate_after_epoch", &after)?;
    check(case, "wait_after_epoch", &waits)?;
    check(case, "cooldown_counter_after_epoch", &cooldowns)
}

/// Every case of `callbacks.json` (and of a `callbacks_more.json` beside it, if one is added),
/// whatever their number; a case the harness cannot run is a failure naming it.
#[test]
fn every_keras_early_stopping_and_reduce_lr_case_matches() {
    let file = load("callbacks.json");
    assert_eq!(file.category, "callbacks");
    let cases = load_cases("callbacks");
    let mut report = Report::default();
    for case in &cases {
        let outcome = match cfg_str(case, "class") {
            Ok("EarlyStopping") => run_early_stopping(case),
            Ok("ReduceLROnPlateau") => run_reduce_lr(case),
            Ok(other) => Err(format!("unknown class {other}")),
            Err(e) => Err(e),
        };
        report.record(&case.name, outcome);
    }
    report.finish(cases.len());
}

/// One case of `keras_history_lr.json`.
#[derive(serde::Deserialize)]
struct HistoryLrCase {
    name: String,
    config: serde_json::Map<String, serde_json::Value>,
    expected: HistoryLrExpected,
}

#[derive(serde::Deserialize)]
struct HistoryLrExpected {
    history_keys: Vec<String>,
    learning_rate: Vec<f64>,
}

#[derive(serde::Deserialize)]
struct HistoryLrFile {
    cases: Vec<HistoryLrCase>,
}

/// `fit` as the fixture's Keras script ran it (Dense(3) on 12 samples of 2 features, SGD,
/// sparse crossentropy from logits, batch 4, no shuffle), with its `ReduceLROnPlateau`.
fn fit_history_with_reduce_lr(case: &HistoryLrCase) -> Result<keras_core::callbacks::History> {
    use common::tiny::Tiny;
    use common::TestDevice;
    use keras_core::data::{ArrayDataset, Shuffle};
    use keras_core::dfdx::prelude::*;
    use keras_core::optimizers::Sgd;
    use keras_core::target::Sparse;

    let num = |key: &str| case.config[key].as_f64().unwrap_or(f64::NAN);
    let int = |key: &str| case.config[key].as_u64().unwrap_or(0) as usize;
    let samples = int("samples");
    let x = (0..2 * samples).map(|i| i as f32 / 10.0).collect();
    let y = (0..samples).map(|i| (i % 3) as f32).collect();
    let data = ArrayDataset::<Rank1<2>, Sparse>::new(x, y)?;
    let dev = TestDevice::seed_from_u64(0);
    let mut trainer = keras_core::Trainer::compile(
        Tiny::<f32, TestDevice>::build(&dev),
        Sgd::new()
            .with_learning_rate(num("learning_rate") as f32)
            .build()?,
        keras_core::losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let reduce = ReduceLROnPlateau::new()
        .with_monitor(case.config["monitor"].as_str().unwrap_or("loss"))
        .with_factor(num("factor"))?
        .with_patience(int("patience"))
        .with_cooldown(int("cooldown"))
        .with_min_lr(num("min_lr"))
        .with_min_delta(num("min_delta"));
    trainer
        .fit(&data)
        .epochs(int("epochs"))
        .batch_size(int("batch_size"))
        .shuffle(Shuffle::None)
        .verbose(0)
        .callbacks((reduce,))
        .run()
}

#[test]
fn history_holds_each_epochs_learning_rate_as_keras_logs_it_under_reduce_lr_on_plateau() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/keras_history_lr.json");
    let text = std::fs::read_to_string(&path).unwrap();
    let file: HistoryLrFile = serde_json::from_str(&text).unwrap();
    assert!(!file.cases.is_empty());
    for case in &file.cases {
        let history = fit_history_with_reduce_lr(case).unwrap();
        assert_eq!(history.keys, case.expected.history_keys, "{}", case.name);
        // Keras logs the float32 rate as a Python float: the same f32, exactly.
        let want: Vec<f32> = case
            .expected
            .learning_rate
            .iter()
            .map(|&v| v as f32)
            .collect();
        assert_eq!(history.get("learning_rate").unwrap(), want, "{}", case.name);
    }
}
