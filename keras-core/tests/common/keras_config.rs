//! Keras configs from the golden files: a config whose keys must all be read, and the
//! learning-rate schedules built from one (shared by the optimizer and schedule golden tests).

use std::cell::RefCell;
use std::collections::BTreeSet;

use keras_core::optimizers::schedules::{
    CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRateSchedule,
    PiecewiseConstantDecay, PolynomialDecay,
};
use keras_core::optimizers::{OptimizerBuilder, UpdateRule};
use serde_json::Value;

/// A JSON config whose keys must all be read (so no parameter is silently ignored).
pub struct Cfg<'a> {
    value: &'a Value,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Cfg<'a> {
    /// Wraps a config object; no key is read yet.
    pub fn new(value: &'a Value) -> Self {
        Self {
            value,
            used: RefCell::default(),
        }
    }

    /// The value at `key` (`Null` when absent), marked as read.
    pub fn get(&self, key: &str) -> &'a Value {
        self.used.borrow_mut().insert(key.to_string());
        &self.value[key]
    }

    /// The number at `key`; panics when it is not one.
    pub fn f64(&self, key: &str) -> f64 {
        self.get(key)
            .as_f64()
            .unwrap_or_else(|| panic!("`{key}` is not a number"))
    }

    /// The step count at `key`: a whole, non-negative number.
    pub fn u64(&self, key: &str) -> u64 {
        let v = self.f64(key);
        assert!(
            v >= 0.0 && v.fract() == 0.0,
            "`{key}` = {v} is not a step count"
        );
        v as u64
    }

    /// The number at `key`, `None` when it is `null` or absent.
    pub fn opt_f64(&self, key: &str) -> Option<f64> {
        self.get(key).as_f64()
    }

    /// The bool at `key`; panics when it is not one.
    pub fn bool(&self, key: &str) -> bool {
        self.get(key)
            .as_bool()
            .unwrap_or_else(|| panic!("`{key}` is not a bool"))
    }

    /// The keys never read.
    pub fn unused(&self) -> Vec<String> {
        let used = self.used.borrow();
        self.value
            .as_object()
            .map(|m| m.keys().filter(|k| !used.contains(*k)).cloned().collect())
            .unwrap_or_default()
    }

    /// Fails, naming them, when some keys of the `what` config were never read.
    pub fn check_all_used(&self, what: &str) -> Result<(), String> {
        let unused = self.unused();
        if unused.is_empty() {
            Ok(())
        } else {
            Err(format!("{what} keys not used: {unused:?}"))
        }
    }
}

/// Any of Keras's schedules, built from a golden config.
#[derive(Debug, Clone)]
pub enum AnySchedule {
    Exponential(ExponentialDecay),
    Piecewise(PiecewiseConstantDecay),
    Polynomial(PolynomialDecay),
    InverseTime(InverseTimeDecay),
    Cosine(CosineDecay),
    CosineRestarts(CosineDecayRestarts),
}

impl LearningRateSchedule for AnySchedule {
    fn learning_rate(&self, step: u64) -> f32 {
        match self {
            AnySchedule::Exponential(s) => s.learning_rate(step),
            AnySchedule::Piecewise(s) => s.learning_rate(step),
            AnySchedule::Polynomial(s) => s.learning_rate(step),
            AnySchedule::InverseTime(s) => s.learning_rate(step),
            AnySchedule::Cosine(s) => s.learning_rate(step),
            AnySchedule::CosineRestarts(s) => s.learning_rate(step),
        }
    }
}

/// Builds the schedule named by the string at `class_key` from the rest of `c`, and checks that
/// every key of `c` was read.
pub fn schedule_from(c: &Cfg, class_key: &str) -> Result<AnySchedule, String> {
    let class = c
        .get(class_key)
        .as_str()
        .ok_or(format!("no `{class_key}` string"))?
        .to_string();
    let s = schedule(&class, c)?;
    c.check_all_used("schedule")?;
    Ok(s)
}

/// Builds the schedule of Keras class `class` from its config.
fn schedule(class: &str, c: &Cfg) -> Result<AnySchedule, String> {
    let err = |e: keras_core::Error| e.to_string();
    Ok(match class {
        "ExponentialDecay" => AnySchedule::Exponential(
            ExponentialDecay::new(
                c.f64("initial_learning_rate"),
                c.u64("decay_steps"),
                c.f64("decay_rate"),
            )
            .map_err(err)?
            .with_staircase(c.bool("staircase")),
        ),
        "PiecewiseConstantDecay" => {
            let list = |key| -> Vec<f64> {
                c.get(key)
                    .as_array()
                    .map(|a| a.iter().filter_map(Value::as_f64).collect())
                    .unwrap_or_default()
            };
            let boundaries = list("boundaries").iter().map(|&b| b as u64).collect();
            AnySchedule::Piecewise(
                PiecewiseConstantDecay::new(boundaries, list("values")).map_err(err)?,
            )
        }
        "PolynomialDecay" => AnySchedule::Polynomial(
            PolynomialDecay::new(c.f64("initial_learning_rate"), c.u64("decay_steps"))
                .map_err(err)?
                .with_end_learning_rate(c.f64("end_learning_rate"))
                .with_power(c.f64("power"))
                .with_cycle(c.bool("cycle")),
        ),
        "InverseTimeDecay" => AnySchedule::InverseTime(
            InverseTimeDecay::new(
                c.f64("initial_learning_rate"),
                c.u64("decay_steps"),
                c.f64("decay_rate"),
            )
            .map_err(err)?
            .with_staircase(c.bool("staircase")),
        ),
        "CosineDecay" => {
            let mut s = CosineDecay::new(c.f64("initial_learning_rate"), c.u64("decay_steps"))
                .map_err(err)?
                .with_alpha(c.f64("alpha"));
            let warmup_steps = c.u64("warmup_steps");
            if let Some(target) = c.get("warmup_target").as_f64() {
                s = s.with_warmup(target, warmup_steps);
            }
            AnySchedule::Cosine(s)
        }
        "CosineDecayRestarts" => AnySchedule::CosineRestarts(
            CosineDecayRestarts::new(c.f64("initial_learning_rate"), c.u64("first_decay_steps"))
                .map_err(err)?
                .with_t_mul(c.f64("t_mul"))
                .map_err(err)?
                .with_m_mul(c.f64("m_mul"))
                .with_alpha(c.f64("alpha")),
        ),
        other => return Err(format!("unknown schedule class {other}")),
    })
}

/// Applies the generic Keras options of the config.
pub fn base_options<U: UpdateRule>(mut b: OptimizerBuilder<U>, c: &Cfg) -> OptimizerBuilder<U> {
    if let Some(wd) = c.opt_f64("weight_decay") {
        b = b.with_weight_decay(wd);
    }
    if let Some(v) = c.opt_f64("clipnorm") {
        b = b.with_clipnorm(v);
    }
    if let Some(v) = c.opt_f64("clipvalue") {
        b = b.with_clipvalue(v);
    }
    if let Some(v) = c.opt_f64("global_clipnorm") {
        b = b.with_global_clipnorm(v);
    }
    let ema_momentum = c.f64("ema_momentum");
    if c.bool("use_ema") {
        b = b.with_ema(ema_momentum);
    }
    if let Some(f) = c.opt_f64("ema_overwrite_frequency") {
        b = b.with_ema_overwrite_frequency(f as u64);
    }
    if let Some(s) = c.opt_f64("loss_scale_factor") {
        b = b.with_loss_scale_factor(s);
    }
    if let Some(s) = c.opt_f64("gradient_accumulation_steps") {
        b = b.with_gradient_accumulation_steps(s as u64);
    }
    b
}
