//! The loss tracker and the metrics kept on the device (`Trainer::set_metrics_on_device`), on
//! [`TestDevice`](common::TestDevice): `fit`, `train_on_batch` and the resume points a callback
//! takes give what the host-side metrics give, whether the host reads the states after every
//! batch or once per epoch. The set mixes metrics with a row form (kept on the device; `Mean`'s
//! and `Sum`'s read no label) and without one (read from the model's output on the host),
//! weighted and not.

mod common;

use common::recorder::Recorder;
use common::tiny::{data, Tiny};
use common::TestDevice;
use keras_core::callbacks::History;
use keras_core::data::{ArrayDataset, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::{
    self, ResolvedAccuracy, SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy,
};
use keras_core::optimizers::{KerasOptimizer, Sgd};
use keras_core::target::Sparse;
use keras_core::Trainer;

type Mixed = (
    ResolvedAccuracy<Sparse>,
    metrics::SparseCategoricalCrossentropy,
    SparseTopKCategoricalAccuracy<2>,
    metrics::Mean<Sparse>,
    metrics::Sum<Sparse>,
);

type MixedTrainer = Trainer<
    Tiny<f32, TestDevice>,
    KerasOptimizer<Sgd>,
    SparseCategoricalCrossentropy,
    Mixed,
    (SparseCategoricalAccuracy,),
    TestDevice,
>;

/// The tiny classifier with row-form and host metrics, and a weighted accuracy; the loss stays
/// on the host so that the host and device runs differ only in where the metrics are kept.
fn trainer(metrics_on_device: bool) -> MixedTrainer {
    let dev = TestDevice::seed_from_u64(7);
    let mut trainer = Trainer::compile(
        Tiny::<f32, TestDevice>::build(&dev),
        Sgd::new().with_learning_rate(0.1).build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (
            ResolvedAccuracy::default(),
            metrics::SparseCategoricalCrossentropy::default().with_from_logits(true),
            SparseTopKCategoricalAccuracy::<2>::new().unwrap(),
            metrics::Mean::default(),
            metrics::Sum::default(),
        ),
        &dev,
    )
    .unwrap()
    .with_weighted_metrics((SparseCategoricalAccuracy::default(),));
    trainer.set_loss_on_device(false);
    trainer.set_metrics_on_device(metrics_on_device);
    trainer
}

/// 40 samples of the tiny data set, with uneven sample weights.
fn weighted_data() -> ArrayDataset<Rank1<2>, Sparse> {
    let weights = (0..40).map(|i| 0.25 + (i % 4) as f32 * 0.5).collect();
    data(40).with_sample_weight(weights).unwrap()
}

/// Exact on `Cpu` (the CPU kernel sums in the host metrics' order); on CUDA the block sums in
/// another order.
fn tolerance() -> f32 {
    if cfg!(feature = "cuda") {
        1e-5
    } else {
        0.0
    }
}

fn assert_close(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: {got:?} vs {want:?}");
    for (g, w) in got.iter().zip(want) {
        assert!(
            (g - w).abs() <= tolerance() * w.abs().max(1.0),
            "{what}: {got:?} vs {want:?}"
        );
    }
}

fn assert_same_history(got: &History, want: &History) {
    assert_eq!(got.keys, want.keys);
    for key in &want.keys {
        assert_close(key, got.get(key).unwrap(), want.get(key).unwrap());
    }
}

fn fit(trainer: &mut MixedTrainer, recorder: &mut Recorder) -> History {
    let train = weighted_data();
    let val = data(9);
    trainer
        .fit(&train)
        .epochs(3)
        .batch_size(8)
        .shuffle(Shuffle::None)
        .verbose(0)
        .validation_data(&val)
        .callbacks(recorder)
        .run()
        .unwrap()
}

#[test]
fn fit_logs_the_host_metrics_history_whether_states_are_read_per_batch_or_per_epoch() {
    let mut on_host = Recorder::new(true);
    let want = fit(&mut trainer(false), &mut on_host);
    let mut per_batch = Recorder::new(true);
    let got = fit(&mut trainer(true), &mut per_batch);
    assert_same_history(&got, &want);
    assert_eq!(per_batch.per_batch.len(), on_host.per_batch.len());
    for (got, want) in per_batch.per_batch.iter().zip(&on_host.per_batch) {
        let names = |l: &[(String, f32)]| l.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        let values = |l: &[(String, f32)]| l.iter().map(|(_, v)| *v).collect::<Vec<_>>();
        assert_eq!(names(got), names(want));
        assert_close("batch logs", &values(got), &values(want));
    }
    let mut per_epoch = Recorder::new(false);
    let got = fit(&mut trainer(true), &mut per_epoch);
    assert_same_history(&got, &want);
    assert!(per_epoch.per_batch.is_empty());
}

#[test]
fn a_resume_point_taken_between_reads_carries_the_device_states() {
    let mut on_host = Recorder::new(true);
    fit(&mut trainer(false), &mut on_host);
    let mut on_device = Recorder::new(false);
    fit(&mut trainer(true), &mut on_device);
    assert_eq!(on_device.points.len(), 3);
    for (got, want) in on_device.points.iter().zip(&on_host.points) {
        // Two batches of 8 ran: the loss tracker counts 16 samples, not the epoch-start zero
        // the host copy still holds between reads.
        assert_eq!(got.loss_tracker.count, 16.0);
        assert_close(
            "loss tracker",
            &[got.loss_tracker.total, got.loss_tracker.count],
            &[want.loss_tracker.total, want.loss_tracker.count],
        );
        let flat = |states: &[Option<Vec<f32>>]| -> Vec<f32> {
            states.iter().flatten().flatten().copied().collect()
        };
        assert_eq!(got.metric_states.len(), want.metric_states.len());
        assert_close(
            "metric states",
            &flat(&got.metric_states),
            &flat(&want.metric_states),
        );
        assert_close(
            "weighted metric states",
            &flat(&got.weighted_metric_states),
            &flat(&want.weighted_metric_states),
        );
    }
}

#[test]
fn train_on_batch_and_the_trainers_metrics_read_the_device_states_back() {
    let batch = weighted_data();
    let mut on_host = trainer(false);
    let mut on_device = trainer(true);
    for _ in 0..3 {
        let want = on_host.train_on_batch(&batch).unwrap();
        let got = on_device.train_on_batch(&batch).unwrap();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        let values = |l: &keras_core::callbacks::Logs| l.iter().map(|(_, v)| v).collect::<Vec<_>>();
        assert_close("train_on_batch logs", &values(&got), &values(&want));
    }
    // After `fit` the host copy is the current one again.
    fit(&mut on_host, &mut Recorder::new(false));
    fit(&mut on_device, &mut Recorder::new(false));
    let results = |t: &MixedTrainer| {
        let mut seen = Vec::new();
        keras_core::metrics::MetricSet::<3, Sparse>::visit_results(t.metrics(), &mut |_, v| {
            seen.push(v)
        });
        seen
    };
    assert_close(
        "metrics after fit",
        &results(&on_device),
        &results(&on_host),
    );
    assert!(results(&on_device)[0] > 0.0);
}

#[test]
fn evaluate_and_test_on_batch_give_the_host_metrics_logs() {
    let val = weighted_data();
    let values = |l: &keras_core::callbacks::Logs| l.iter().map(|(_, v)| v).collect::<Vec<_>>();
    for loss_on_device in [false, true] {
        let mut on_host = trainer(false);
        let mut on_device = trainer(true);
        on_device.set_loss_on_device(loss_on_device);
        let want = on_host.evaluate(&val).batch_size(6).run().unwrap();
        let got = on_device.evaluate(&val).batch_size(6).run().unwrap();
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>()
        );
        let (g, w) = (values(&got), values(&want));
        // The metrics are exact on `Cpu`; the device form of the loss sums in its own order.
        assert_close("evaluate metrics", &g[1..], &w[1..]);
        assert!(
            (g[0] - w[0]).abs() <= 1e-5 * w[0].abs().max(1.0),
            "{g:?} vs {w:?}"
        );
        if !loss_on_device {
            assert_close("evaluate loss", &g[..1], &w[..1]);
        }
        let want = values(&on_host.test_on_batch(&val).unwrap());
        let got = values(&on_device.test_on_batch(&val).unwrap());
        assert_close("test_on_batch metrics", &got[1..], &want[1..]);
        assert!((got[0] - want[0]).abs() <= 1e-5 * want[0].abs().max(1.0));
    }
}

#[test]
fn a_class_id_outside_the_output_is_a_typed_error_before_any_device_read() {
    let bad =
        ArrayDataset::<Rank1<2>, Sparse>::new(vec![0.0, 1.0, 1.0, 0.0], vec![1.0, 7.0]).unwrap();
    let mut t = trainer(true);
    let err = t.fit(&bad).epochs(1).verbose(0).run();
    assert!(
        matches!(err, Err(keras_core::Error::ClassOutOfRange { .. })),
        "{err:?}"
    );
}
