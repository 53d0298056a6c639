//! `fit` on a `Generator` of batches (Keras's generator input): the same numbers as the same
//! batches from an array, endless generators bounded by `steps_per_epoch`, class weights, and
//! typed errors for what Keras refuses or what a generator gets wrong.

mod common;

use common::tiny::{data, trainer};
use keras_core::data::{ArrayDataset, Dataset, Generator, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::target::Sparse;
use keras_core::Error;

/// The batches of [`data`]`(n)` in order, `batch` samples each (the last one shorter).
fn batches(n: usize, batch: usize) -> Vec<(Vec<f32>, Vec<f32>)> {
    let all = data(n);
    (0..n)
        .step_by(batch)
        .map(|start| {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for i in start..(start + batch).min(n) {
                all.append_sample(i, &mut x, &mut y).unwrap();
            }
            (x, y)
        })
        .collect()
}

#[test]
fn fit_on_a_generator_matches_fit_on_the_same_batches_from_an_array() {
    let parts = batches(50, 8);
    let gen = Generator::<Rank1<2>, Sparse, _>::new(|| parts.clone().into_iter());
    let val = data(12);
    let mut on_gen = trainer();
    let from_gen = on_gen
        .fit(&gen)
        .epochs(3)
        // A generator's batches are its own; `batch_size` is still validation's batch size.
        .batch_size(8)
        .verbose(0)
        .validation_data(&val)
        .run()
        .unwrap();
    let mut on_array = trainer();
    let from_array = on_array
        .fit(&data(50))
        .epochs(3)
        .batch_size(8)
        .shuffle(Shuffle::None)
        .verbose(0)
        .validation_data(&val)
        .run()
        .unwrap();
    assert_eq!(from_gen.history, from_array.history);
    assert_eq!(on_gen.weights().values, on_array.weights().values);
}

#[test]
fn an_endless_generator_runs_steps_per_epoch_batches_each_epoch() {
    let parts = batches(48, 8);
    let calls = std::sync::atomic::AtomicUsize::new(0);
    let gen = Generator::<Rank1<2>, Sparse, _>::new(|| {
        calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        parts.clone().into_iter().cycle()
    });
    let mut t = trainer();
    let history = t
        .fit(&gen)
        .epochs(4)
        .steps_per_epoch(5)
        .verbose(0)
        .run()
        .unwrap();
    assert_eq!(history.get("loss").unwrap().len(), 4);
    // The pass never ends, so every epoch continues the one generator the first epoch started.
    assert_eq!(calls.load(std::sync::atomic::Ordering::Relaxed), 1);
}

#[test]
fn class_weights_weigh_a_generators_samples_as_an_arrays() {
    let weights = vec![0.5, 2.0, 1.0];
    let parts = batches(30, 10);
    let gen = Generator::<Rank1<2>, Sparse, _>::new(|| parts.clone().into_iter());
    let fit = |t: &mut common::tiny::TinyTrainer, on_gen: bool| {
        let fit = if on_gen {
            t.fit(&gen)
                .epochs(2)
                .verbose(0)
                .class_weight(weights.clone())
                .run()
        } else {
            t.fit(&data(30))
                .epochs(2)
                .batch_size(10)
                .shuffle(Shuffle::None)
                .verbose(0)
                .class_weight(weights.clone())
                .run()
        };
        fit.unwrap().history
    };
    assert_eq!(fit(&mut trainer(), true), fit(&mut trainer(), false));
}

#[test]
fn what_keras_refuses_and_bad_batches_are_typed_errors() {
    let parts = batches(20, 5);
    let gen = Generator::<Rank1<2>, Sparse, _>::new(|| parts.clone().into_iter());
    let split = trainer().fit(&gen).validation_split(0.2).verbose(0).run();
    assert!(matches!(
        split,
        Err(Error::InvalidArgument {
            name: "validation_split",
            ..
        })
    ));

    let empty = Generator::<Rank1<2>, Sparse, _>::new(std::iter::empty::<(Vec<f32>, Vec<f32>)>);
    let nothing = trainer().fit(&empty).verbose(0).run();
    assert!(
        matches!(nothing, Err(Error::EmptyData { .. })),
        "{nothing:?}"
    );

    // The second batch has 3 features per sample.
    let ragged = Generator::<Rank1<2>, Sparse, _>::new(|| {
        vec![
            (vec![0.0; 4], vec![0.0, 1.0]),
            (vec![0.0; 9], vec![0.0, 1.0, 2.0]),
        ]
        .into_iter()
    });
    let mut t = trainer();
    let before = t.weights().values.clone();
    let shapes = t.fit(&ragged).verbose(0).run();
    assert!(
        matches!(shapes, Err(Error::ShapeMismatch { name: "x", .. })),
        "{shapes:?}"
    );
    // The first batch trained; nothing of the bad one did.
    assert_ne!(t.weights().values, before);

    let nan = Generator::<Rank1<2>, Sparse, _>::new(|| {
        vec![(vec![0.0, f32::NAN], vec![1.0])].into_iter()
    });
    let nonfinite = trainer().fit(&nan).verbose(0).run();
    assert!(
        matches!(
            nonfinite,
            Err(Error::NonFiniteInput {
                name: "x",
                position: 1,
                ..
            })
        ),
        "{nonfinite:?}"
    );

    let unknown_class =
        Generator::<Rank1<2>, Sparse, _>::new(|| vec![(vec![0.0, 1.0], vec![7.0])].into_iter());
    let cw = trainer()
        .fit(&unknown_class)
        .class_weight(vec![1.0, 1.0, 1.0])
        .verbose(0)
        .run();
    assert!(
        matches!(
            cw,
            Err(Error::InvalidArgument {
                name: "class_weight",
                ..
            })
        ),
        "{cw:?}"
    );
}

#[test]
fn a_dataset_still_trains_as_before() {
    let d: ArrayDataset<Rank1<2>, Sparse> = data(10);
    let history = trainer().fit(&d).epochs(1).verbose(0).run().unwrap();
    assert_eq!(history.get("loss").unwrap().len(), 1);
}

#[test]
fn evaluate_predict_and_validation_take_generators_too() {
    let train_parts = batches(40, 8);
    let val_parts = batches(12, 4);
    let train = Generator::<Rank1<2>, Sparse, _>::new(|| train_parts.clone().into_iter());
    let val = Generator::<Rank1<2>, Sparse, _>::new(|| val_parts.clone().into_iter());
    let mut on_gen = trainer();
    let from_gen = on_gen
        .fit(&train)
        .epochs(2)
        .verbose(0)
        .validation_data(&val)
        .run()
        .unwrap();
    let mut on_array = trainer();
    let from_array = on_array
        .fit(&data(40))
        .epochs(2)
        .batch_size(8)
        .validation_batch_size(4)
        .shuffle(Shuffle::None)
        .verbose(0)
        .validation_data(&data(12))
        .run()
        .unwrap();
    assert_eq!(from_gen.history, from_array.history);
    let eval_gen = on_gen.evaluate(&val).run().unwrap();
    let eval_array = on_array.evaluate(&data(12)).batch_size(4).run().unwrap();
    assert_eq!(eval_gen, eval_array);
    let pred_gen = on_gen.predict(&val).run().unwrap();
    let pred_array = on_array.predict(&data(12)).batch_size(4).run().unwrap();
    assert_eq!(pred_gen.len(), 12 * 3);
    assert_eq!(pred_gen, pred_array);
}

/// A weight per sample of [`data`]`(n)`: uneven, so that weighting shows.
fn sample_weights(n: usize) -> Vec<f32> {
    (0..n).map(|i| 0.25 + (i % 5) as f32 * 0.5).collect()
}

#[test]
fn sample_weights_from_a_generator_weigh_as_an_arrays() {
    let (n, batch) = (30, 8);
    let w = sample_weights(n);
    let parts: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = batches(n, batch)
        .into_iter()
        .zip(w.chunks(batch))
        .map(|((x, y), w)| (x, y, w.to_vec()))
        .collect();
    let gen = Generator::<Rank1<2>, Sparse, _>::new(|| parts.clone().into_iter());
    let mut on_gen = trainer();
    let from_gen = on_gen.fit(&gen).epochs(2).verbose(0).run().unwrap();
    let weighted = data(n).with_sample_weight(w.clone()).unwrap();
    let mut on_array = trainer();
    let from_array = on_array
        .fit(&weighted)
        .epochs(2)
        .batch_size(batch)
        .shuffle(Shuffle::None)
        .verbose(0)
        .run()
        .unwrap();
    assert_eq!(from_gen, from_array);
    assert_eq!(on_gen.weights().values, on_array.weights().values);
    // The weights count: without them the run differs.
    let mut unweighted = trainer();
    let plain = unweighted
        .fit(&data(n))
        .epochs(2)
        .batch_size(batch)
        .shuffle(Shuffle::None)
        .verbose(0)
        .run()
        .unwrap();
    assert_ne!(plain, from_gen);
}

#[test]
fn bad_sample_weights_from_a_generator_are_typed_errors() {
    let with = |w: Vec<f32>| {
        let (x, y) = batches(4, 4).remove(0);
        vec![(x, y, w)]
    };
    for (parts, what) in [
        (with(vec![1.0; 3]), "sample_weight"),
        (with(vec![1.0, f32::NAN, 1.0, 1.0]), "finite"),
    ] {
        let gen = Generator::<Rank1<2>, Sparse, _>::new(|| parts.clone().into_iter());
        let err = trainer().fit(&gen).verbose(0).run().unwrap_err();
        assert!(err.to_string().contains(what), "{err}");
    }
    let parts = with(vec![1.0; 4]);
    let gen = Generator::<Rank1<2>, Sparse, _>::new(|| parts.clone().into_iter());
    let err = trainer()
        .fit(&gen)
        .class_weight(vec![1.0, 1.0, 1.0])
        .verbose(0)
        .run()
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::InvalidArgument {
                name: "class_weight",
                ..
            }
        ),
        "{err}"
    );
}
