//! Keras's IoU metrics kept on the device (`MetricFn::iou_form`, `KerasDevice::try_iou_update`),
//! on [`TestDevice`](common::TestDevice): `fit` logs what the host metrics log, exactly (the
//! counts are integers), training and validation, whether the host reads the states after
//! every batch or once per epoch, and a resume point taken between reads carries the device's
//! counts; a predicted
//! class id out of range is the typed error the host metric gives.

mod common;

use common::recorder::Recorder;
use common::tiny::{data, Tiny};
use common::TestDevice;
use keras_core::callbacks::History;
use keras_core::data::{ArrayDataset, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Dense, Linear};
use keras_core::losses::{CategoricalCrossentropy, SparseCategoricalCrossentropy};
use keras_core::metrics::{BinaryIoU, IoU, MeanIoU, MetricFn, MetricSet, OneHotIoU, OneHotMeanIoU};
use keras_core::optimizers::{KerasOptimizer, Sgd};
use keras_core::target::{Dense as DenseTarget, Sparse, Target};
use keras_core::{Error, Sequential, Trainer};

type SparseIous = (MeanIoU<3>, IoU<3>);
type OneHotIous = (OneHotMeanIoU<3>, OneHotIoU<3>, BinaryIoU);

type TinyTrainer<L, Mt, Wm> =
    Trainer<Tiny<f32, TestDevice>, KerasOptimizer<Sgd>, L, Mt, Wm, TestDevice>;

/// The tiny classifier with `metrics` and `weighted` metrics; the loss stays on the host so
/// that the runs differ only in where the metrics are kept.
fn trainer<L, Mt, Wm>(loss: L, metrics: Mt, weighted: Wm, on_device: bool) -> TinyTrainer<L, Mt, Wm>
where
    L: keras_core::losses::Loss<3>,
    Mt: MetricSet<3, L::Target>,
    Wm: MetricSet<3, L::Target>,
{
    let dev = TestDevice::seed_from_u64(11);
    let mut trainer = Trainer::compile(
        Tiny::<f32, TestDevice>::build(&dev),
        Sgd::new().with_learning_rate(0.3).build().unwrap(),
        loss,
        metrics,
        &dev,
    )
    .unwrap()
    .with_weighted_metrics(weighted);
    trainer.set_loss_on_device(false);
    trainer.set_metrics_on_device(on_device);
    trainer
}

fn sparse_metrics() -> SparseIous {
    (
        MeanIoU::<3>::new().unwrap().with_sparse_y_pred(false),
        IoU::<3>::new(&[0, 2])
            .unwrap()
            .with_sparse_y_pred(false)
            .with_ignore_class(Some(1)),
    )
}

fn one_hot_metrics() -> OneHotIous {
    (
        OneHotMeanIoU::<3>::new().unwrap(),
        OneHotIoU::<3>::new(&[1, 2]).unwrap(),
        BinaryIoU::new(&[0, 1], 0.0).unwrap(),
    )
}

/// Weights 0.25, 0.75, 1.25, 1.75, ...: truncated to 0, 0, 1, 1 by the IoU metrics.
fn weights(n: usize) -> Vec<f32> {
    (0..n).map(|i| 0.25 + (i % 4) as f32 * 0.5).collect()
}

/// `n` samples of the tiny data set with class-id labels, weighted.
fn sparse_data(n: usize) -> ArrayDataset<Rank1<2>, Sparse> {
    data(n).with_sample_weight(weights(n)).unwrap()
}

/// The same samples with one-hot labels.
fn one_hot_data(n: usize) -> ArrayDataset<Rank1<2>, DenseTarget<3>> {
    let x = (0..2 * n).map(|i| i as f32 / 10.0).collect();
    let y = (0..n)
        .flat_map(|i| (0..3).map(move |c| f32::from(u8::from(i % 3 == c))))
        .collect();
    ArrayDataset::new(x, y)
        .unwrap()
        .with_sample_weight(weights(n))
        .unwrap()
}

/// Three epochs of batches of 8 with `recorder`, each followed by a validation pass (evaluation
/// keeps the states on the device too).
fn fit<L, Mt, Wm, T: Target>(
    trainer: &mut TinyTrainer<L, Mt, Wm>,
    train: &ArrayDataset<Rank1<2>, T>,
    val: &ArrayDataset<Rank1<2>, T>,
    recorder: &mut Recorder,
) -> History
where
    L: keras_core::losses::Loss<3, Target = T>,
    Mt: MetricSet<3, T>,
    Wm: MetricSet<3, T>,
{
    trainer
        .fit(train)
        .epochs(3)
        .batch_size(8)
        .shuffle(Shuffle::None)
        .verbose(0)
        .validation_data(val)
        .callbacks(recorder)
        .run()
        .unwrap()
}

/// The runs on the device log the host run's numbers exactly, per batch and per epoch, and
/// their resume points carry the host run's states.
fn assert_same_runs(
    host: (History, Recorder),
    per_batch: (History, Recorder),
    per_epoch: (History, Recorder),
) {
    let (want, on_host) = host;
    for (got, recorder) in [&per_batch, &per_epoch] {
        assert_eq!(got.keys, want.keys);
        for key in &want.keys {
            assert_eq!(got.get(key), want.get(key), "{key}");
        }
        assert_eq!(recorder.points.len(), 3);
        for (got, want) in recorder.points.iter().zip(&on_host.points) {
            assert_eq!(got.metric_states, want.metric_states);
            assert_eq!(got.weighted_metric_states, want.weighted_metric_states);
        }
    }
    assert_eq!(per_batch.1.per_batch, on_host.per_batch);
    assert!(per_epoch.1.per_batch.is_empty());
}

#[test]
fn sparse_iou_metrics_on_the_device_log_exactly_what_the_host_metrics_log() {
    let metrics = sparse_metrics();
    assert!(metrics.0.iou_form().is_some() && metrics.1.iou_form().is_some());
    let loss = || SparseCategoricalCrossentropy::default().with_from_logits(true);
    let run = |on_device, batch_logs| {
        let mut recorder = Recorder::new(batch_logs);
        let history = fit(
            &mut trainer(
                loss(),
                sparse_metrics(),
                (MeanIoU::<3>::new().unwrap().with_sparse_y_pred(false),),
                on_device,
            ),
            &sparse_data(40),
            &sparse_data(13),
            &mut recorder,
        );
        (history, recorder)
    };
    let host = run(false, true);
    assert!(
        host.0.keys.iter().any(|k| k == "val_io_u"),
        "{:?}",
        host.0.keys
    );
    assert_same_runs(host, run(true, true), run(true, false));
}

#[test]
fn one_hot_and_binary_iou_metrics_on_the_device_log_exactly_what_the_host_metrics_log() {
    let metrics = one_hot_metrics();
    assert!(metrics.0.iou_form().is_some() && metrics.1.iou_form().is_some());
    assert!(metrics.2.iou_form().is_some());
    let loss = || CategoricalCrossentropy::default().with_from_logits(true);
    let run = |on_device, batch_logs| {
        let mut recorder = Recorder::new(batch_logs);
        let history = fit(
            &mut trainer(
                loss(),
                one_hot_metrics(),
                (OneHotMeanIoU::<3>::new().unwrap(),),
                on_device,
            ),
            &one_hot_data(40),
            &one_hot_data(13),
            &mut recorder,
        );
        (history, recorder)
    };
    let host = run(false, true);
    assert_same_runs(host, run(true, true), run(true, false));
}

/// One linear layer, two features to one output: a class id, for `IoU`'s sparse predictions.
#[derive(Sequential)]
struct OneOutput<E: Dtype, D: Device<E>> {
    out: Dense<2, 1, Linear, E, D>,
}

#[test]
fn a_predicted_class_id_out_of_range_is_the_host_metrics_typed_error() {
    // Features in the hundreds: the output, truncated, is far outside the 3 classes.
    let x = (0..32).map(|i| 100.0 + i as f32 * 50.0).collect();
    let bad = ArrayDataset::<Rank1<2>, Sparse>::new(x, vec![0.0; 16]).unwrap();
    let run = |on_device| {
        let dev = TestDevice::seed_from_u64(5);
        let mut trainer = Trainer::compile(
            OneOutput::<f32, TestDevice>::build(&dev),
            Sgd::new().build().unwrap(),
            SparseCategoricalCrossentropy::default().with_from_logits(true),
            (IoU::<3>::new(&[0, 1, 2]).unwrap(),),
            &dev,
        )
        .unwrap();
        trainer.set_metrics_on_device(on_device);
        trainer.fit(&bad).epochs(1).batch_size(8).verbose(0).run()
    };
    let Err(Error::ClassOutOfRange {
        label,
        index,
        num_classes: 3,
    }) = run(false)
    else {
        panic!("the host metric accepted predictions outside its classes");
    };
    match run(true) {
        Err(Error::ClassOutOfRange {
            label: device_label,
            index: device_index,
            num_classes: 3,
        }) => {
            // The CPU kernel records the first bad prediction in element order, as the host
            // update stops at it; CUDA's threads record one of them.
            if !cfg!(feature = "cuda") {
                assert_eq!((device_label, device_index), (label, index));
            }
        }
        other => panic!("expected the class-range error, got {other:?}"),
    }
}
