//! `fit` with the loss on the device (`Trainer::set_loss_on_device`) trains as `fit` with the
//! host loss, on [`TestDevice`](common::TestDevice): the device forms are checked case by case in
//! `golden_losses`; here the trainer's side of them (labels, masks and sample weights, the
//! reduction's divisor, the backward pass) runs whole epochs.

mod common;

use common::tiny::{data, Tiny};
use common::TestDevice;
use keras_core::dfdx::prelude::*;
use keras_core::losses::{Loss, LossFn, Reduction, SparseCategoricalCrossentropy};
use keras_core::optimizers::Sgd;
use keras_core::target::Sparse;
use keras_core::Trainer;

/// The loss history and final weights of two epochs of the tiny classifier under `loss`, with
/// the loss on the device or on the host.
fn train<L: Loss<3, Target = Sparse> + LossFn + Clone>(
    loss: &L,
    on_device: bool,
) -> (Vec<f32>, Vec<f32>) {
    let dev = TestDevice::seed_from_u64(3);
    let mut trainer = Trainer::compile(
        Tiny::<f32, TestDevice>::build(&dev),
        Sgd::new().with_learning_rate(0.05).build().unwrap(),
        loss.clone(),
        (),
        &dev,
    )
    .unwrap();
    trainer.set_loss_on_device(on_device);
    let weights = (0..30).map(|i| 0.5 + (i % 3) as f32 * 0.75).collect();
    let train = data(30).with_sample_weight(weights).unwrap();
    let history = trainer
        .fit(&train)
        .epochs(2)
        .batch_size(7)
        .verbose(0)
        .run()
        .unwrap();
    let losses = history.get("loss").unwrap().to_vec();
    (losses, trainer.weights().values.clone())
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len());
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= 1e-5 * w.abs().max(1.0),
            "{what}: {got:?} vs {want:?}"
        );
    }
}

#[test]
fn a_loss_that_ignores_a_class_trains_on_the_device_as_on_the_host() {
    for reduction in [
        Reduction::SumOverBatchSize,
        Reduction::Sum,
        Reduction::MeanWithSampleWeight,
    ] {
        for from_logits in [true, false] {
            let loss = SparseCategoricalCrossentropy::default()
                .with_from_logits(from_logits)
                .with_ignore_class(Some(1))
                .with_reduction(reduction);
            let (host_losses, host_kernel) = train(&loss, false);
            let (device_losses, device_kernel) = train(&loss, true);
            let what = format!("{reduction:?}, from_logits {from_logits}");
            assert_close(&format!("{what}: losses"), &device_losses, &host_losses);
            assert_close(&format!("{what}: weights"), &device_kernel, &host_kernel);
            assert!(
                host_losses.iter().all(|l| l.is_finite() && *l > 0.0),
                "{what}: a loss to compare, {host_losses:?}"
            );
        }
    }
}
