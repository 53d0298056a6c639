//! Keras configs from the golden files: a config whose keys must all be read, the learning-rate
//! schedules built from one, and an optimizer's learning rate (a number or a schedule object),
//! shared by the optimizer, schedule and fit golden tests. A value of the wrong kind is an
//! `Err` naming its key, so that a harness records it against the case instead of panicking.

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

    /// The number at `key`; `Err` naming the key when it is not one.
    pub fn f64(&self, key: &str) -> Result<f64, String> {
        let v = self.get(key);
        v.as_f64()
            .ok_or_else(|| format!("`{key}` = {v} is not a number"))
    }

    /// The step count at `key`: a whole, non-negative number.
    pub fn u64(&self, key: &str) -> Result<u64, String> {
        let v = self.f64(key)?;
        if v >= 0.0 && v.fract() == 0.0 {
            Ok(v as u64)
        } else {
            Err(format!("`{key}` = {v} is not a step count"))
        }
    }

    /// The number at `key`, `None` when it is `null` or absent; `Err` for anything else.
    pub fn opt_f64(&self, key: &str) -> Result<Option<f64>, String> {
        match self.get(key) {
            Value::Null => Ok(None),
            v => v
                .as_f64()
                .map(Some)
                .ok_or_else(|| format!("`{key}` = {v} is neither a number nor null")),
        }
    }

    /// The bool at `key`; `Err` naming the key when it is not one.
    pub fn bool(&self, key: &str) -> Result<bool, String> {
        let v = self.get(key);
        v.as_bool()
            .ok_or_else(|| format!("`{key}` = {v} is not a bool"))
    }

    /// The bool at `key`, `None` when it is `null` or absent; `Err` for anything else.
    pub fn opt_bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            Value::Null => Ok(None),
            v => v
                .as_bool()
                .map(Some)
                .ok_or_else(|| format!("`{key}` = {v} is neither a bool nor null")),
        }
    }

    /// The string at `key`, `None` when it is `null` or absent; `Err` for anything else.
    pub fn opt_str(&self, key: &str) -> Result<Option<&'a str>, String> {
        match self.get(key) {
            Value::Null => Ok(None),
            v => v
                .as_str()
                .map(Some)
                .ok_or_else(|| format!("`{key}` = {v} is neither a string nor null")),
        }
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
    /// The schedule type of an optimizer whose learning rate is a constant (see
    /// [`with_learning_rate`]): it stands in until the constant replaces it, and is never
    /// evaluated.
    StandIn,
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
            AnySchedule::StandIn => unreachable!("a constant learning rate evaluates no schedule"),
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

/// `b` with the learning rate at `learning_rate` of the optimizer config `c`: a number (the
/// float32 value Keras stores), or a schedule object, either as `optimizers.json` writes it
/// (`{"schedule": "<class>", ...its parameters...}`) or as Keras serializes one
/// (`{"class_name": "<class>", "config": {...its parameters..., "name": ...}, ...}`). Both
/// give the same builder type; anything else is an `Err` saying what the rate was.
pub fn with_learning_rate<U: UpdateRule>(
    b: OptimizerBuilder<U>,
    c: &Cfg,
) -> Result<OptimizerBuilder<U, AnySchedule>, String> {
    let lr = c.get("learning_rate");
    if let Some(lr) = lr.as_f64() {
        // `with_learning_rate` keeps the builder's schedule type and replaces the stand-in.
        return Ok(b
            .with_schedule(AnySchedule::StandIn)
            .with_learning_rate(lr as f32));
    }
    let schedule = if lr.get("schedule").is_some() {
        schedule_from(&Cfg::new(lr), "schedule")
    } else if let Some(class) = lr.get("class_name").and_then(Value::as_str) {
        let config = Cfg::new(&lr["config"]);
        // Keras's serialized schedule names itself; the name is a label.
        config.get("name");
        let s = schedule(class, &config)?;
        config.check_all_used("schedule config")?;
        Ok(s)
    } else {
        Err("not a number, a `schedule` object or a serialized schedule".to_string())
    };
    schedule
        .map(|s| b.with_schedule(s))
        .map_err(|e| format!("learning_rate {lr}: {e}"))
}

/// Builds the schedule of Keras class `class` from its config.
fn schedule(class: &str, c: &Cfg) -> Result<AnySchedule, String> {
    let err = |e: keras_core::Error| e.to_string();
    Ok(match class {
        "ExponentialDecay" => AnySchedule::Exponential(
            ExponentialDecay::new(
                c.f64("initial_learning_rate")?,
                c.u64("decay_steps")?,
                c.f64("decay_rate")?,
            )
            .map_err(err)?
            .with_staircase(c.bool("staircase")?),
        ),
        "PiecewiseConstantDecay" => {
            let list = |key| -> Result<Vec<f64>, String> {
                let v = c.get(key);
                v.as_array()
                    .and_then(|a| a.iter().map(Value::as_f64).collect())
                    .ok_or_else(|| format!("`{key}` = {v} is not a list of numbers"))
            };
            let mut boundaries = Vec::new();
            for b in list("boundaries")? {
                if b < 0.0 || b.fract() != 0.0 {
                    return Err(format!("boundary {b} is not a step count"));
                }
                boundaries.push(b as u64);
            }
            AnySchedule::Piecewise(
                PiecewiseConstantDecay::new(boundaries, list("values")?).map_err(err)?,
            )
        }
        "PolynomialDecay" => AnySchedule::Polynomial(
            PolynomialDecay::new(c.f64("initial_learning_rate")?, c.u64("decay_steps")?)
                .map_err(err)?
                .with_end_learning_rate(c.f64("end_learning_rate")?)
                .with_power(c.f64("power")?)
                .with_cycle(c.bool("cycle")?),
        ),
        "InverseTimeDecay" => AnySchedule::InverseTime(
            InverseTimeDecay::new(
                c.f64("initial_learning_rate")?,
                c.u64("decay_steps")?,
                c.f64("decay_rate")?,
            )
            .map_err(err)?
            .with_staircase(c.bool("staircase")?),
        ),
        "CosineDecay" => {
            let mut s = CosineDecay::new(c.f64("initial_learning_rate")?, c.u64("decay_steps")?)
                .map_err(err)?
                .with_alpha(c.f64("alpha")?);
            let warmup_steps = c.u64("warmup_steps")?;
            if let Some(target) = c.opt_f64("warmup_target")? {
                s = s.with_warmup(target, warmup_steps);
            }
            AnySchedule::Cosine(s)
        }
        "CosineDecayRestarts" => AnySchedule::CosineRestarts(
            CosineDecayRestarts::new(c.f64("initial_learning_rate")?, c.u64("first_decay_steps")?)
                .map_err(err)?
                .with_t_mul(c.f64("t_mul")?)
                .map_err(err)?
                .with_m_mul(c.f64("m_mul")?)
                .with_alpha(c.f64("alpha")?),
        ),
        other => return Err(format!("unknown schedule class {other}")),
    })
}

/// Applies the generic Keras options of the config.
pub fn base_options<U: UpdateRule, S: LearningRateSchedule>(
    mut b: OptimizerBuilder<U, S>,
    c: &Cfg,
) -> Result<OptimizerBuilder<U, S>, String> {
    if let Some(wd) = c.opt_f64("weight_decay")? {
        b = b.with_weight_decay(wd);
    }
    if let Some(v) = c.opt_f64("clipnorm")? {
        b = b.with_clipnorm(v);
    }
    if let Some(v) = c.opt_f64("clipvalue")? {
        b = b.with_clipvalue(v);
    }
    if let Some(v) = c.opt_f64("global_clipnorm")? {
        b = b.with_global_clipnorm(v);
    }
    let ema_momentum = c.f64("ema_momentum")?;
    if c.bool("use_ema")? {
        b = b.with_ema(ema_momentum);
    }
    if let Some(f) = c.opt_f64("ema_overwrite_frequency")? {
        b = b.with_ema_overwrite_frequency(f as u64);
    }
    if let Some(s) = c.opt_f64("loss_scale_factor")? {
        b = b.with_loss_scale_factor(s);
    }
    if let Some(s) = c.opt_f64("gradient_accumulation_steps")? {
        b = b.with_gradient_accumulation_steps(s as u64);
    }
    Ok(b)
}
