//! Layer forward values against Keras: the golden `fit.json` predictions and hand-computed values.

mod common;

use common::{compare, load, Case, Report};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Dense, ReLU};

/// Builds the case's model with Keras's final weights and predicts `x_val`.
fn predict_with_final_weights(dev: &Cpu, case: &Case) -> Result<Vec<f32>, String> {
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
        let x: Tensor<(usize, Const<4>), f32, Cpu> = dev.tensor_from_vec(x.f32(), (batch, Const));
        Ok(out.forward(hidden.forward(x)).as_vec())
    } else {
        let mut layer = dev.build_module::<Dense<3, 1>, f32>();
        layer
            .set_weights(&w("final_kernel_0")?, &w("final_bias_0")?)
            .map_err(err)?;
        let x: Tensor<(usize, Const<3>), f32, Cpu> = dev.tensor_from_vec(x.f32(), (batch, Const));
        Ok(layer.forward(x).as_vec())
    }
}

#[test]
fn dense_stacks_with_keras_final_weights_predict_keras_values() {
    let golden = load("fit.json");
    let dev = Cpu::default();
    let mut report = Report::default();
    for case in &golden.cases {
        let outcome = predict_with_final_weights(&dev, case)
            .and_then(|got| compare(&got, &case.expected["predict_val"], 1e-4));
        report.record(&case.name, outcome);
    }
    report.finish(golden.cases.len());
}
