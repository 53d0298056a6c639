//! Data-parallel `fit` over MPI: every process of `mpiexec -n N target/.../data_parallel`
//! trains with `DataParallel` and checks, against the one-process run it computes itself on
//! the same global batches, that the `History` (loss, metrics, weighted metrics, validation)
//! agrees within 1e-5 and the trained weights within 1e-4, and that every process logged
//! exactly the same numbers. The cases have a partial last batch smaller than 3 (so with 3
//! processes some shards are empty, in training and in validation): plain, `sample_weight`, and
//! `class_weight` with the `mean_with_sample_weight` reduction (whose divisor is the global
//! weight sum), and a `Generator` of weighted batches, finite or endless. The three cases and
//! `evaluate` run twice: with the loss and metric states on the host, and kept on the device
//! (`set_loss_on_device`, `set_metrics_on_device`: `Cpu`'s device kernels, the path `Cuda`
//! takes by default), each against the one-process run of the same setting. Processes whose
//! data disagree must fail with `DistributionMismatch`.
//!
//! `--fault` instead trains until process 1 kills itself with SIGKILL: the job must end (not
//! hang); `.ci/run` bounds it with `timeout`.
//!
//! A test binary without libtest's harness: MPI is initialized once per process and its calls
//! come from one thread. Run by `.ci/run` as `mpiexec -n 2` and `mpiexec -n 3`.
#![cfg(feature = "mpi")]

use keras_core::data::{ArrayDataset, Generator, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::distribution::{DataParallel, Distribution};
use keras_core::layers::{Dense, Linear, ReLU};
use keras_core::losses::{Reduction, SparseCategoricalCrossentropy};
use keras_core::metrics::{self, ResolvedAccuracy};
use keras_core::optimizers::{Adam, Optimizer, Sgd};
use keras_core::target::Sparse;
use keras_core::{Error, Sequential, Trainer};

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
}

/// `n` samples of three noisy classes, starting at sample `offset` of the sequence.
fn samples(n: usize, offset: usize) -> (Vec<f32>, Vec<f32>) {
    let mut x = Vec::with_capacity(n * 4);
    let mut y = Vec::with_capacity(n);
    for i in offset..offset + n {
        let class = (i * 5 + i / 3) % 3;
        for j in 0..4 {
            let noise = ((i * 7 + j * 13) % 11) as f32 / 11.0 - 0.5;
            x.push(if j == class { 1.0 } else { 0.0 } + 0.4 * noise);
        }
        y.push(class as f32);
    }
    (x, y)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    Plain,
    SampleWeight,
    ClassWeight,
}

/// 50 training samples in batches of 16 (the last holds 2) and 13 validation samples in
/// batches of 4 (the last holds 1).
fn train_data(case: Case) -> ArrayDataset<Rank1<4>, Sparse> {
    let (x, y) = samples(50, 0);
    let data = ArrayDataset::new(x, y).unwrap();
    match case {
        Case::SampleWeight => {
            let w = (0..50).map(|i| 0.25 + (i % 7) as f32 * 0.3).collect();
            data.with_sample_weight(w).unwrap()
        }
        _ => data,
    }
}

fn val_data() -> ArrayDataset<Rank1<4>, Sparse> {
    let (x, y) = samples(13, 50);
    ArrayDataset::new(x, y).unwrap()
}

/// A run's History (key, per-epoch values) and trained weights.
type Run = (Vec<(String, Vec<f32>)>, Vec<f32>);

/// Trains `case` from weights seeded by `init_seed`; with `dist`, data-parallel; with
/// `resident`, the loss and the metric states kept on the device (`Cpu`'s device kernels), as
/// `Cuda` keeps them by default.
fn train(
    case: Case,
    init_seed: u64,
    dist: Option<&DataParallel>,
    resident: bool,
) -> Result<Run, Error> {
    let dev = Cpu::seed_from_u64(init_seed);
    let model = Mlp::<f32, Cpu>::build(&dev);
    let mut loss = SparseCategoricalCrossentropy::default().with_from_logits(true);
    if case == Case::ClassWeight {
        loss = loss.with_reduction(Reduction::MeanWithSampleWeight);
    }
    let accuracy = (ResolvedAccuracy::<Sparse>::default(),);
    let weighted = (metrics::SparseCategoricalCrossentropy::default().with_from_logits(true),);
    let data = train_data(case);
    let val = val_data();
    let history = if case == Case::Plain {
        let opt = Adam::new().with_learning_rate(0.02).build()?;
        let mut t =
            Trainer::compile(model, opt, loss, accuracy, &dev)?.with_weighted_metrics(weighted);
        t.set_loss_on_device(resident);
        t.set_metrics_on_device(resident);
        let fit = t
            .fit(&data)
            .epochs(4)
            .batch_size(16)
            .validation_data(&val)
            .validation_batch_size(4)
            .shuffle(Shuffle::Full)
            .seed(11)
            .verbose(0);
        let h = match dist {
            Some(d) => fit.distribution(d).run()?,
            None => fit.run()?,
        };
        (h, t.weights().values.clone())
    } else {
        let opt = Sgd::new()
            .with_learning_rate(0.1)
            .with_momentum(0.9)
            .build()?;
        let mut t =
            Trainer::compile(model, opt, loss, accuracy, &dev)?.with_weighted_metrics(weighted);
        t.set_loss_on_device(resident);
        t.set_metrics_on_device(resident);
        let mut fit = t
            .fit(&data)
            .epochs(4)
            .batch_size(16)
            .validation_data(&val)
            .validation_batch_size(4)
            .shuffle(Shuffle::Full)
            .seed(5)
            .verbose(0);
        if case == Case::ClassWeight {
            fit = fit.class_weight(vec![0.5, 2.0, 1.25]);
        }
        let h = match dist {
            Some(d) => fit.distribution(d).run()?,
            None => fit.run()?,
        };
        (h, t.weights().values.clone())
    };
    let (history, weights) = history;
    let logs = history
        .keys
        .iter()
        .map(|k| (k.clone(), history.get(k).unwrap().to_vec()))
        .collect();
    Ok((logs, weights))
}

fn max_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

fn check_case(dist: &DataParallel, case: Case, resident: bool) {
    let (rank, ranks) = (dist.rank(), dist.num_processes());
    let want = train(case, 0, None, resident).unwrap();
    // Processes other than 0 start from other weights: fit must broadcast process 0's.
    let got = train(case, rank as u64 * 100, Some(dist), resident).unwrap();
    let names: Vec<&str> = got.0.iter().map(|(k, _)| k.as_str()).collect();
    assert!(
        names.contains(&"val_loss") && names.contains(&"accuracy"),
        "{names:?}"
    );
    let what = format!("{case:?}{}", if resident { " (resident)" } else { "" });
    let d = assert_matches_one_process(&what, dist, &got, &want);
    if case == Case::Plain {
        check_evaluate(dist, resident);
    }
    if rank == 0 {
        println!(
            "ok {what} on {ranks} processes: loss {:?}, weights within {d:e}",
            got.0[0].1
        );
    }
}

/// `got` (this process's data-parallel run) has the log keys of `want` (the one-process run),
/// every logged value within 1e-5 and the weights within 1e-4, and every process logged the
/// very same numbers. Returns the weights' largest difference.
fn assert_matches_one_process(what: &str, dist: &DataParallel, got: &Run, want: &Run) -> f32 {
    let (rank, ranks) = (dist.rank(), dist.num_processes());
    let ((logs, weights), (want_logs, want_weights)) = (got, want);
    let names: Vec<&str> = logs.iter().map(|(k, _)| k.as_str()).collect();
    let want_names: Vec<&str> = want_logs.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, want_names, "{what}: the same log keys");
    for ((key, got), (_, want)) in logs.iter().zip(want_logs) {
        let d = max_diff(got, want);
        assert!(
            d <= 1e-5,
            "{what} rank {rank}/{ranks}: `{key}` differs from the one-process run by {d}: {got:?} vs {want:?}"
        );
    }
    let d = max_diff(weights, want_weights);
    assert!(
        d <= 1e-4,
        "{what} rank {rank}/{ranks}: weights differ by {d}"
    );
    let flat: Vec<f32> = logs.iter().flat_map(|(_, v)| v.iter().copied()).collect();
    let all = dist.all_gather(&flat).unwrap();
    for (r, theirs) in all.iter().enumerate() {
        assert_eq!(
            theirs, &all[0],
            "{what}: process {r}'s logs differ from process 0's"
        );
    }
    d
}

/// A `Generator` of batches (Keras's generator input) trains data-parallel as an array does:
/// every process runs the same generator and keeps its shard of each batch, weighted
/// `(x, y, sample_weight)` batches of 16 and a last one of 2 (empty shards with 3 processes)
/// included; History and weights match one process on the same generator. A second, endless
/// generator bounded by `steps_per_epoch` does the same.
fn check_generator(dist: &DataParallel) {
    let (rank, ranks) = (dist.rank(), dist.num_processes());
    let (x, y) = samples(50, 0);
    let w: Vec<f32> = (0..50).map(|i| 0.25 + (i % 7) as f32 * 0.3).collect();
    let batches: Vec<(Vec<f32>, Vec<f32>, Vec<f32>)> = (0..50)
        .step_by(16)
        .map(|s| {
            let e = (s + 16).min(50);
            (x[s * 4..e * 4].to_vec(), y[s..e].to_vec(), w[s..e].to_vec())
        })
        .collect();
    let val = val_data();
    let run = |endless: bool, init_seed: u64, dist: Option<&DataParallel>| -> Run {
        let dev = Cpu::seed_from_u64(init_seed);
        let model = Mlp::<f32, Cpu>::build(&dev);
        let loss = SparseCategoricalCrossentropy::default().with_from_logits(true);
        let opt = Adam::new().with_learning_rate(0.02).build().unwrap();
        let accuracy = (ResolvedAccuracy::<Sparse>::default(),);
        let weighted = (metrics::SparseCategoricalCrossentropy::default().with_from_logits(true),);
        let mut t = Trainer::compile(model, opt, loss, accuracy, &dev)
            .unwrap()
            .with_weighted_metrics(weighted);
        // One generator type for both: the finite one ends after the batches, once a pass.
        let per_pass = if endless { usize::MAX } else { batches.len() };
        let gen = Generator::<Rank1<4>, Sparse, _>::new(|| {
            batches.clone().into_iter().cycle().take(per_pass)
        });
        let mut fit = t
            .fit(&gen)
            .epochs(3)
            .validation_data(&val)
            .validation_batch_size(4)
            .verbose(0);
        if endless {
            fit = fit.steps_per_epoch(5);
        }
        let history = match dist {
            Some(d) => fit.distribution(d).run(),
            None => fit.run(),
        }
        .unwrap();
        let logs = history
            .keys
            .iter()
            .map(|k| (k.clone(), history.get(k).unwrap().to_vec()))
            .collect();
        (logs, t.weights().values.clone())
    };
    for endless in [false, true] {
        let what = if endless {
            "endless generator"
        } else {
            "generator"
        };
        let want = run(endless, 0, None);
        let got = run(endless, rank as u64 * 100, Some(dist));
        let d = assert_matches_one_process(what, dist, &got, &want);
        if rank == 0 {
            println!(
                "ok {what} on {ranks} processes: loss {:?}, weights within {d:e}",
                got.0[0].1
            );
        }
    }
}

/// Process 0 trained an epoch alone before the data-parallel `fit` (its Adam slots and
/// iteration count moved, as after loading a checkpoint); every process continues from its
/// optimizer state as from its weights, so all match one process doing the same.
fn check_optimizer_state(dist: &DataParallel) {
    let rank = dist.rank();
    let run = |chief: bool, dist: Option<&DataParallel>| {
        let dev = Cpu::seed_from_u64(if chief { 0 } else { 100 + rank as u64 });
        let mut t = Trainer::compile(
            Mlp::<f32, Cpu>::build(&dev),
            Adam::new().with_learning_rate(0.02).build().unwrap(),
            SparseCategoricalCrossentropy::default().with_from_logits(true),
            (),
            &dev,
        )
        .unwrap();
        let data = train_data(Case::Plain);
        if chief {
            t.fit(&data)
                .epochs(1)
                .batch_size(16)
                .verbose(0)
                .run()
                .unwrap();
        }
        let fit = t.fit(&data).epochs(2).batch_size(16).seed(3).verbose(0);
        match dist {
            Some(d) => fit.distribution(d).run().unwrap(),
            None => fit.run().unwrap(),
        };
        (t.weights().values.clone(), t.optimizer().iterations())
    };
    let (want, want_iterations) = run(true, None);
    let (got, iterations) = run(rank == 0, Some(dist));
    assert_eq!(
        iterations, want_iterations,
        "rank {rank}: the optimizer's iteration count"
    );
    let d = max_diff(&got, &want);
    assert!(d <= 1e-4, "rank {rank}: weights differ by {d}");
    if rank == 0 {
        println!("ok the optimizer state of process 0 on every process: weights within {d:e}");
    }
}

/// `evaluate` over the processes gives the one-process results (13 samples in batches of 4:
/// the last batch of 1 leaves empty shards).
fn check_evaluate(dist: &DataParallel, resident: bool) {
    let dev = Cpu::seed_from_u64(0);
    let mut t = Trainer::compile(
        Mlp::<f32, Cpu>::build(&dev),
        Sgd::new().build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (ResolvedAccuracy::<Sparse>::default(),),
        &dev,
    )
    .unwrap();
    t.set_loss_on_device(resident);
    t.set_metrics_on_device(resident);
    let val = val_data();
    let want = t.evaluate(&val).batch_size(4).run().unwrap();
    let got = t
        .evaluate(&val)
        .batch_size(4)
        .distribution(dist)
        .run()
        .unwrap();
    for (key, v) in want.iter() {
        let g = got.get(key).unwrap();
        assert!((g - v).abs() <= 1e-5, "evaluate `{key}`: {g} vs {v}");
    }
    assert_eq!(got.iter().count(), 2);
    if dist.rank() == 0 {
        println!(
            "ok evaluate over {} processes: {got:?}",
            dist.num_processes()
        );
    }
}

/// Process 1 has one sample more: every process fails before training, naming the data.
fn check_mismatch(dist: &DataParallel) {
    let dev = Cpu::seed_from_u64(0);
    let n = 20 + usize::from(dist.rank() == 1);
    let (x, y) = samples(n, 0);
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(x, y).unwrap();
    let mut t = Trainer::compile(
        Mlp::<f32, Cpu>::build(&dev),
        Sgd::new().build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap();
    let err = t
        .fit(&data)
        .batch_size(8)
        .verbose(0)
        .distribution(dist)
        .run()
        .unwrap_err();
    match err {
        Error::DistributionMismatch { what, rank, .. } => {
            assert!(what.contains("training samples"), "{what}");
            assert_eq!(rank, 1);
        }
        other => panic!("expected DistributionMismatch, got {other}"),
    }
    if dist.rank() == 0 {
        println!("ok mismatched data fails on every process with DistributionMismatch");
    }
}

/// A `CSVLogger` writes on process 0 only; `EarlyStopping` (which cannot see an improvement
/// of 10) stops every process after the same epoch, 2 of 6.
fn check_callbacks(dist: &DataParallel) {
    use keras_core::callbacks::{CSVLogger, EarlyStopping};
    let dev = Cpu::seed_from_u64(0);
    let data = train_data(Case::Plain);
    let val = val_data();
    let mut t = Trainer::compile(
        Mlp::<f32, Cpu>::build(&dev),
        Sgd::new().build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap();
    let csv = std::env::temp_dir().join(format!("keras-dp-{}.csv", std::process::id()));
    let history = t
        .fit(&data)
        .epochs(6)
        .batch_size(16)
        .validation_data(&val)
        .verbose(1)
        .callbacks((
            CSVLogger::new(&csv),
            EarlyStopping::new()
                .with_monitor("val_loss")
                .with_min_delta(10.0),
        ))
        .distribution(dist)
        .run()
        .unwrap();
    let wrote = csv.exists();
    let _ = std::fs::remove_file(&csv);
    assert_eq!(
        wrote,
        dist.rank() == 0,
        "process {}: CSVLogger wrote: {wrote}",
        dist.rank()
    );
    let epochs = history.get("loss").unwrap().len();
    assert_eq!(epochs, 2, "EarlyStopping stops after epoch 2");
    let all = dist.all_gather(&[epochs as f32]).unwrap();
    assert!(
        all.iter().all(|e| e == &all[0]),
        "every process stopped at once: {all:?}"
    );
    if dist.rank() == 0 {
        println!(
            "ok CSVLogger writes on process 0 only; EarlyStopping stops all at epoch {epochs}"
        );
    }
}

/// Trains many epochs; process 1 kills itself (SIGKILL) in the middle.
fn fault(dist: &DataParallel) {
    use keras_core::callbacks::{Callback, CallbackContext};
    struct KillAt(bool);
    impl Callback for KillAt {
        fn on_train_batch_end<C: CallbackContext>(
            &mut self,
            batch: usize,
            _ctx: &mut C,
        ) -> keras_core::Result<()> {
            if self.0 && batch == 1 {
                eprintln!("process 1: SIGKILL");
                // SAFETY: kill(2) on our own pid; no memory is touched.
                unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
            }
            Ok(())
        }
    }
    let dev = Cpu::seed_from_u64(0);
    let (x, y) = samples(50, 0);
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(x, y).unwrap();
    let mut t = Trainer::compile(
        Mlp::<f32, Cpu>::build(&dev),
        Sgd::new().build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap();
    let _ = t
        .fit(&data)
        .epochs(1_000_000)
        .batch_size(8)
        .verbose(0)
        .callbacks(KillAt(dist.rank() == 1))
        .distribution(dist)
        .run();
    eprintln!("process {}: fit returned after a peer died", dist.rank());
    std::process::exit(3);
}

/// Process 1 SIGKILLs itself after this many training batches of [`backed_run`] (epoch 2,
/// batch 1, of 4 epochs of 4 batches); the newest backup, every 3 batches, is from batch 9.
const KILL_AFTER: usize = 10;

/// Kills this process after [`KILL_AFTER`] batches when `armed`.
struct KillAfter {
    armed: bool,
    seen: usize,
}

impl keras_core::callbacks::Callback for KillAfter {
    fn on_train_batch_end<C: keras_core::callbacks::CallbackContext>(
        &mut self,
        _batch: usize,
        _ctx: &mut C,
    ) -> keras_core::Result<()> {
        self.seen += 1;
        if self.armed && self.seen == KILL_AFTER {
            eprintln!("process 1: SIGKILL after batch {KILL_AFTER}");
            // SAFETY: kill(2) on our own pid; no memory is touched.
            unsafe { libc::kill(libc::getpid(), libc::SIGKILL) };
        }
        Ok(())
    }
}

/// [`Case::Plain`]'s run with `EarlyStopping` (whose counters a backup carries) and, with
/// `backup_dir`, a `BackupAndRestore` there every 3 batches; with `kill`, process 1 dies in
/// the middle. Returns the History's losses, the weights and where the run resumed.
fn backed_run(
    dist: Option<&DataParallel>,
    backup_dir: Option<&std::path::Path>,
    kill: bool,
) -> (Vec<f32>, Vec<f32>, Option<(usize, usize)>) {
    use keras_core::callbacks::{BackupAndRestore, EarlyStopping, SaveFreq};
    let rank = dist.map_or(0, |d| d.rank());
    let dev = Cpu::seed_from_u64(rank as u64 * 100);
    let mut t = Trainer::compile(
        Mlp::<f32, Cpu>::build(&dev),
        Adam::new().with_learning_rate(0.02).build().unwrap(),
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )
    .unwrap();
    let mut backup = backup_dir.map(|dir| {
        BackupAndRestore::new(dir)
            .unwrap()
            .with_save_freq(SaveFreq::Batches(3))
            .unwrap()
    });
    let data = train_data(Case::Plain);
    let fit = t
        .fit(&data)
        .epochs(4)
        .batch_size(16)
        .shuffle(Shuffle::Full)
        .seed(11)
        .verbose(0)
        .callbacks((
            EarlyStopping::new().with_monitor("loss").with_patience(100),
            backup.as_mut(),
            KillAfter {
                armed: kill && rank == 1,
                seen: 0,
            },
        ));
    let history = match dist {
        Some(d) => fit.distribution(d).run().unwrap(),
        None => fit.run().unwrap(),
    };
    let resumed = backup.as_ref().and_then(|b| b.restored_from());
    (
        history.get("loss").unwrap().to_vec(),
        t.weights().values.clone(),
        resumed,
    )
}

/// After a job whose process 1 was killed (`--backup-kill DIR`), the same job again resumes
/// from the backup process 0 wrote, on every process, and ends where one uninterrupted process
/// ends, with the weights bit for bit those of the same job run uninterrupted on as many
/// processes. (Its logged loss for the resumed epoch may differ in the last bit: process 0
/// resumes the epoch's running loss summed over the processes, so the sum is taken in another
/// order.)
fn check_resume_after_a_kill(dist: &DataParallel, dir: &std::path::Path) {
    let rank = dist.rank();
    let (want_loss, want_weights, _) = backed_run(None, None, false);
    let (loss, weights, resumed) = backed_run(Some(dist), Some(dir), false);
    assert_eq!(
        resumed,
        Some((2, 1)),
        "rank {rank}: resumed from batch 9's backup"
    );
    let d = max_diff(&loss, &want_loss);
    assert!(
        d <= 1e-5,
        "rank {rank}: losses differ by {d}: {loss:?} vs {want_loss:?}"
    );
    let d = max_diff(&weights, &want_weights);
    assert!(d <= 1e-4, "rank {rank}: weights differ by {d}");
    // And bit for bit where the same job, uninterrupted on as many processes, ends.
    let (same_loss, same_weights, _) = backed_run(Some(dist), None, false);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&weights),
        bits(&same_weights),
        "rank {rank}: the resumed weights are the uninterrupted run's"
    );
    println!("rank {rank}: losses {loss:?} resumed, {same_loss:?} uninterrupted");
    if rank == 0 {
        println!(
            "ok a job resumed after a SIGKILL of process 1: weights within {d:e} of one \
             process, bit for bit those of the uninterrupted job"
        );
    }
}

fn main() {
    let dist = DataParallel::from_env().expect("MPI starts");
    if std::env::args().any(|a| a == "--fault") {
        fault(&dist);
    }
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--backup-kill") {
        backed_run(Some(&dist), Some(std::path::Path::new(&args[i + 1])), true);
        eprintln!(
            "process {}: the run went on after process 1 died",
            dist.rank()
        );
        std::process::exit(3);
    }
    if let Some(i) = args.iter().position(|a| a == "--backup-resume") {
        check_resume_after_a_kill(&dist, std::path::Path::new(&args[i + 1]));
        return;
    }
    // A second initialization is a typed error, not a crash.
    assert!(matches!(
        DataParallel::from_env(),
        Err(Error::Distribution(_))
    ));
    for resident in [false, true] {
        for case in [Case::Plain, Case::SampleWeight, Case::ClassWeight] {
            check_case(&dist, case, resident);
        }
    }
    check_generator(&dist);
    check_callbacks(&dist);
    check_optimizer_state(&dist);
    if dist.num_processes() > 1 {
        check_mismatch(&dist);
    }
}
