//! Every case of `schedules.json`: Keras's learning-rate schedules at a list of steps.

mod common;

use std::cell::RefCell;
use std::collections::BTreeSet;

use common::{compare, load, Report};
use keras_core::optimizers::schedules::{
    CosineDecay, CosineDecayRestarts, ExponentialDecay, InverseTimeDecay, LearningRateSchedule,
    PiecewiseConstantDecay, PolynomialDecay,
};
use serde_json::Value;

/// A JSON config whose keys must all be read (so no parameter is silently ignored).
struct Cfg<'a> {
    value: &'a Value,
    used: RefCell<BTreeSet<String>>,
}

impl<'a> Cfg<'a> {
    fn new(value: &'a Value) -> Self {
        Self {
            value,
            used: RefCell::default(),
        }
    }

    fn get(&self, key: &str) -> &'a Value {
        self.used.borrow_mut().insert(key.to_string());
        &self.value[key]
    }

    fn f64(&self, key: &str) -> f64 {
        self.get(key)
            .as_f64()
            .unwrap_or_else(|| panic!("`{key}` is not a number"))
    }

    fn u64(&self, key: &str) -> u64 {
        let v = self.f64(key);
        assert!(
            v >= 0.0 && v.fract() == 0.0,
            "`{key}` = {v} is not a step count"
        );
        v as u64
    }

    fn bool(&self, key: &str) -> bool {
        self.get(key)
            .as_bool()
            .unwrap_or_else(|| panic!("`{key}` is not a bool"))
    }

    fn unused(&self) -> Vec<String> {
        let used = self.used.borrow();
        self.value
            .as_object()
            .map(|m| m.keys().filter(|k| !used.contains(*k)).cloned().collect())
            .unwrap_or_default()
    }
}

/// Any of Keras's schedules, built from a golden config.
enum AnySchedule {
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

fn check(case: &common::Case) -> Result<(), String> {
    let c = Cfg::new(&case.config);
    let class = c.get("class").as_str().ok_or("no class")?.to_string();
    let s = schedule(&class, &c)?;
    let unused = c.unused();
    if !unused.is_empty() {
        return Err(format!("config keys not used: {unused:?}"));
    }
    let steps = &case.inputs["step"];
    let got: Vec<f32> = steps
        .data
        .iter()
        .map(|&step| s.learning_rate(step as u64))
        .collect();
    compare(&got, &case.expected["learning_rate"], 1e-5)
}

#[test]
fn every_keras_schedule_case_matches() {
    let file = load("schedules.json");
    assert_eq!(file.category, "schedules");
    assert_eq!(file.cases.len(), 19);
    let mut report = Report::default();
    for case in &file.cases {
        report.record(&case.name, check(case));
    }
    report.finish(file.cases.len());
}
