//! Every case of `schedules.json`: Keras's learning-rate schedules at a list of steps.

mod common;

use common::keras_config::{schedule_from, Cfg};
use common::{compare, load, Report};
use keras_core::optimizers::schedules::LearningRateSchedule;

fn check(case: &common::Case) -> Result<(), String> {
    let s = schedule_from(&Cfg::new(&case.config), "class")?;
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
