//! Every case of `schedules.json` (and a `schedules_more.json` beside it, if one is added):
//! Keras's learning-rate schedules at a list of steps, evaluated on the host and driving the
//! optimizer's update kernel on [`TestDevice`](common::TestDevice).

mod common;

use common::keras_config::{schedule_from, Cfg};
use common::{compare, load, load_cases, test_device, Report, DEVICE_TOL_FACTOR};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Dense, Linear};
use keras_core::model::{layout, optimizer_step, StepBuffers};
use keras_core::optimizers::schedules::LearningRateSchedule;
use keras_core::optimizers::Sgd;

/// The steps a case asks for.
fn steps(case: &common::Case) -> Vec<u64> {
    case.inputs["step"].data.iter().map(|&s| s as u64).collect()
}

fn check(case: &common::Case) -> Result<(), String> {
    let s = schedule_from(&Cfg::new(&case.config), "class")?;
    let got: Vec<f32> = steps(case)
        .into_iter()
        .map(|step| s.learning_rate(step))
        .collect();
    compare(&got, &case.expected["learning_rate"], 1e-5)
}

/// The schedule drives SGD's update kernel on the device: a one-unit `Dense` whose weights are
/// 0 before each step and whose gradients are 1 (input 1, loss the output's sum), so after the
/// step of iteration `t` its bias is `-learning_rate(t)`, read at the case's steps.
fn check_on_device(case: &common::Case) -> Result<(), String> {
    let e = |e: keras_core::Error| e.to_string();
    let schedule = schedule_from(&Cfg::new(&case.config), "class")?;
    let wanted = steps(case);
    let last = *wanted.iter().max().ok_or("no steps")?;
    let dev = test_device(0);
    let mut model = dev.build_module::<Dense<1, 1, Linear>, f32>();
    let mut params = layout(&model).map_err(e)?;
    let mut optimizer = Sgd::new().with_schedule(schedule).build().map_err(e)?;
    let mut buffers = StepBuffers::new(dev.clone());
    let x: Tensor<(usize, Const<1>), f32, _> = dev.tensor_from_vec(vec![1.0], (1, Const));
    let mut grads = model.alloc_grads();
    let mut got = Vec::new();
    for step in 0..=last {
        model.set_weights(&[0.0], &[0.0]).map_err(e)?;
        let loss = model.forward_mut(x.clone().traced(grads)).sum();
        grads = loss.backward();
        optimizer_step(
            &mut model,
            &mut grads,
            &mut optimizer,
            &mut params,
            &mut buffers,
        )
        .map_err(e)?;
        if !buffers.is_ahead_of_host() {
            return Err("SGD's step did not run on the device".into());
        }
        for _ in wanted.iter().filter(|&&s| s == step) {
            got.push(-model.bias.as_vec()[0]);
        }
    }
    compare(
        &got,
        &case.expected["learning_rate"],
        1e-5 * DEVICE_TOL_FACTOR,
    )
}

#[test]
fn every_keras_schedule_case_matches() {
    let cases = load_cases("schedules");
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, check(case));
    }
    report.finish(cases.len());
}

#[test]
fn every_keras_schedule_case_drives_the_update_kernel_on_the_device() {
    let cases = load_cases("schedules");
    let mut report = Report::default();
    for case in &cases {
        report.record(&case.name, check_on_device(case));
    }
    report.finish(cases.len());
}

#[test]
fn the_public_schedule_fixture_is_the_one_keras_wrote() {
    let file = load("schedules.json");
    assert_eq!(file.category, "schedules");
    assert!(!file.cases.is_empty());
}
