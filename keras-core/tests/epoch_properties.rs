//! Properties of the data pipeline (`ArrayAdapter` + `EpochIterator`, with and without
//! `Prefetch`) over random dataset sizes, batch sizes, shuffle modes, `steps_per_epoch` and
//! `steps_per_execution`, checked against a plain model of Keras's `EpochIterator`
//! (`keras/src/trainers/epoch_iterator.py`):
//!
//! - without `steps_per_epoch`, every epoch is one full pass;
//! - with `steps_per_epoch = s`, the pass continues across epochs; an epoch runs `s` steps or
//!   stops early when the pass runs out of batches (Keras warns "your input ran out of data"),
//!   and the next epoch then starts a new pass;
//! - every pass sees every sample exactly once, in batches of `batch_size` with the remainder
//!   (`n % batch_size`) last; `Shuffle::None` keeps the order, `Shuffle::Batch` permutes only
//!   within each batch-sized chunk;
//! - step indices restart at 0 each epoch, and groups of `steps_per_execution` batches are
//!   numbered `(begin, end)` without gaps.

use keras_core::data::{
    ArrayAdapter, ArrayDataset, DataAdapter, EpochIterator, Prefetch, Shuffle, Step,
};
use keras_core::dfdx::shapes::Rank1;
use keras_core::target::Dense;
use proptest::prelude::*;

/// `n` samples whose single feature is the sample's index (and so is its label).
fn dataset(n: usize) -> ArrayDataset<Rank1<1>, Dense<1>> {
    let ids: Vec<f32> = (0..n).map(|i| i as f32).collect();
    ArrayDataset::new(ids.clone(), ids).unwrap()
}

/// What one epoch produced: its groups' step numbers, the sample ids of each batch in order,
/// and whether the iterator reported running out of data.
#[derive(Debug, Clone, PartialEq)]
struct Epoch {
    steps: Vec<Step>,
    batches: Vec<Vec<usize>>,
    ran_out: bool,
}

fn run_epochs<A: DataAdapter>(mut it: EpochIterator<A>, epochs: usize) -> Vec<Epoch> {
    (0..epochs)
        .map(|_| {
            it.begin_epoch().unwrap();
            let mut epoch = Epoch {
                steps: Vec::new(),
                batches: Vec::new(),
                ran_out: false,
            };
            while let Some((step, group)) = it.next_group().unwrap() {
                assert_eq!(step.end + 1 - step.begin, group.len(), "{step:?}");
                epoch.steps.push(step);
                for batch in group {
                    assert_eq!(batch.x.len(), batch.size);
                    assert_eq!(batch.x, batch.y);
                    epoch
                        .batches
                        .push(batch.x.iter().map(|&v| v as usize).collect());
                }
            }
            epoch.ran_out = it.ran_out_of_data();
            epoch
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
struct Setup {
    n: usize,
    batch_size: usize,
    shuffle: Shuffle,
    seed: u64,
    steps_per_epoch: Option<usize>,
    steps_per_execution: usize,
    epochs: usize,
}

fn epochs_of(s: Setup, prefetch: bool) -> Vec<Epoch> {
    let data = dataset(s.n);
    let adapter = ArrayAdapter::new(&data, s.batch_size)
        .unwrap()
        .with_shuffle(s.shuffle, s.seed);
    if prefetch {
        std::thread::scope(|scope| {
            let adapter = Prefetch::spawn(scope, adapter, 2);
            let it = EpochIterator::new(adapter, s.steps_per_epoch, s.steps_per_execution).unwrap();
            run_epochs(it, s.epochs)
        })
    } else {
        let it = EpochIterator::new(adapter, s.steps_per_epoch, s.steps_per_execution).unwrap();
        run_epochs(it, s.epochs)
    }
}

/// Keras's `EpochIterator._enumerate_iterator`, reduced to batch indices within their pass:
/// `(pass, batch index)` for every batch of every epoch, and whether the epoch was interrupted.
fn keras_schedule(
    num_batches: usize,
    steps_per_epoch: Option<usize>,
    epochs: usize,
) -> Vec<(Vec<(usize, usize)>, bool)> {
    let mut pass = 0;
    let mut steps_seen = 0;
    let mut out = Vec::new();
    for _ in 0..epochs {
        let steps = steps_per_epoch.unwrap_or(num_batches);
        if steps_per_epoch.is_none() {
            // `self.steps_per_epoch is None`: a new iterator every epoch.
            if !out.is_empty() {
                pass += 1;
            }
            steps_seen = 0;
        }
        let mut batches = Vec::new();
        let mut interrupted = false;
        for _ in 0..steps {
            if steps_seen >= num_batches {
                interrupted = steps_per_epoch.is_some();
                break;
            }
            batches.push((pass, steps_seen));
            steps_seen += 1;
        }
        if steps_seen >= num_batches && steps_per_epoch.is_some() {
            pass += 1;
            steps_seen = 0;
        }
        out.push((batches, interrupted));
    }
    out
}

fn shuffle_mode() -> impl Strategy<Value = Shuffle> {
    prop_oneof![
        Just(Shuffle::None),
        Just(Shuffle::Full),
        Just(Shuffle::Batch)
    ]
}

fn setup() -> impl Strategy<Value = Setup> {
    (
        1usize..200,
        1usize..64,
        shuffle_mode(),
        any::<u64>(),
        prop_oneof![Just(None), (1usize..20).prop_map(Some)],
        prop_oneof![3 => Just(1usize), 1 => 2usize..5],
        1usize..6,
    )
        .prop_map(
            |(n, batch_size, shuffle, seed, steps_per_epoch, steps_per_execution, epochs)| Setup {
                n,
                batch_size,
                shuffle,
                seed,
                steps_per_epoch,
                steps_per_execution,
                epochs,
            },
        )
}

fn check(s: Setup, epochs: &[Epoch]) -> Result<(), TestCaseError> {
    let nb = s.n.div_ceil(s.batch_size);
    let last = match s.n % s.batch_size {
        0 => s.batch_size,
        r => r,
    };
    let schedule = keras_schedule(nb, s.steps_per_epoch, s.epochs);
    prop_assert_eq!(epochs.len(), schedule.len());
    // pass -> (batch index -> sample ids)
    let mut passes: Vec<Vec<Option<Vec<usize>>>> = Vec::new();
    for (e, (epoch, (expected, interrupted))) in epochs.iter().zip(&schedule).enumerate() {
        prop_assert_eq!(epoch.batches.len(), expected.len(), "epoch {} batches", e);
        prop_assert_eq!(epoch.ran_out, *interrupted, "epoch {} ran_out", e);
        // Step numbering: groups of at most steps_per_execution, contiguous from 0.
        let mut next = 0;
        for step in &epoch.steps {
            prop_assert_eq!(step.begin, next, "epoch {}", e);
            prop_assert!(step.end >= step.begin && step.end - step.begin < s.steps_per_execution);
            next = step.end + 1;
        }
        prop_assert_eq!(next, expected.len());
        for (ids, &(pass, index)) in epoch.batches.iter().zip(expected) {
            let size = if index + 1 == nb { last } else { s.batch_size };
            prop_assert_eq!(
                ids.len(),
                size,
                "epoch {} batch {} of pass {}",
                e,
                index,
                pass
            );
            if passes.len() <= pass {
                passes.resize(pass + 1, vec![None; nb]);
            }
            prop_assert!(
                passes[pass][index].is_none(),
                "batch {} of pass {} twice",
                index,
                pass
            );
            passes[pass][index] = Some(ids.clone());
        }
    }
    for (p, pass) in passes.iter().enumerate() {
        let complete = pass.iter().all(Option::is_some);
        let ids: Vec<usize> = pass.iter().flatten().flatten().copied().collect();
        if complete {
            let mut sorted = ids.clone();
            sorted.sort_unstable();
            prop_assert_eq!(
                sorted,
                (0..s.n).collect::<Vec<_>>(),
                "pass {} sees every sample once",
                p
            );
        }
        match s.shuffle {
            Shuffle::None => {
                prop_assert_eq!(
                    &ids,
                    &(0..ids.len()).collect::<Vec<_>>(),
                    "pass {} in order",
                    p
                )
            }
            Shuffle::Batch => {
                for (index, batch) in pass.iter().enumerate() {
                    if let Some(batch) = batch {
                        let mut sorted = batch.clone();
                        sorted.sort_unstable();
                        let start = index * s.batch_size;
                        prop_assert_eq!(sorted, (start..start + batch.len()).collect::<Vec<_>>());
                    }
                }
            }
            Shuffle::Full => {}
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_epoch_matches_keras_epoch_iterator(s in setup()) {
        let epochs = epochs_of(s, false);
        check(s, &epochs)?;
    }

    #[test]
    fn prefetching_changes_nothing(s in setup()) {
        prop_assert_eq!(epochs_of(s, true), epochs_of(s, false));
    }

    #[test]
    fn grouping_by_steps_per_execution_changes_no_batch(s in setup()) {
        let grouped = epochs_of(s, false);
        let single = epochs_of(Setup { steps_per_execution: 1, ..s }, false);
        for (g, one) in grouped.iter().zip(&single) {
            prop_assert_eq!(&g.batches, &one.batches);
            prop_assert_eq!(g.ran_out, one.ran_out);
        }
    }
}

#[test]
fn the_keras_model_matches_the_hand_worked_example() {
    // 4 batches, 3 steps per epoch: batches 0-2, then batch 3 and out of data, then a new pass.
    let schedule = keras_schedule(4, Some(3), 3);
    assert_eq!(schedule[0], (vec![(0, 0), (0, 1), (0, 2)], false));
    assert_eq!(schedule[1], (vec![(0, 3)], true));
    assert_eq!(schedule[2], (vec![(1, 0), (1, 1), (1, 2)], false));
    // Without steps_per_epoch, a new pass each epoch.
    let full = keras_schedule(2, None, 2);
    assert_eq!(full[1], (vec![(1, 0), (1, 1)], false));
}

#[test]
fn full_shuffle_gives_each_pass_a_new_order() {
    let s = Setup {
        n: 50,
        batch_size: 7,
        shuffle: Shuffle::Full,
        seed: 3,
        steps_per_epoch: None,
        steps_per_execution: 1,
        epochs: 2,
    };
    let epochs = epochs_of(s, false);
    assert_ne!(epochs[0].batches, epochs[1].batches);
    assert_eq!(epochs_of(s, true), epochs);
}
