//! `BackupAndRestore`: interrupted runs (an error in a callback, or `SIGKILL` of a child
//! process at random moments) resume bit for bit; corrupt, truncated and foreign backups are
//! rejected.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dfdx::nn::modules::{Linear, ReLU};
use dfdx::prelude::*;
use keras_core::callbacks::{
    BackupAndRestore, Callback, CallbackContext, EarlyStopping, History, LearningRateScheduler,
    Mode, ReduceLROnPlateau, SaveFreq,
};
use keras_core::data::{ArrayDataset, Shuffle};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::ResolvedAccuracy;
use keras_core::optimizers::Adam;
use keras_core::target::Sparse;
use keras_core::{Error, Result, Sequential, Trainer};

/// With Dropout: a resumed run must draw the masks the uninterrupted run drew.
#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Linear<4, 12, E, D>,
    act: ReLU,
    #[layer(rate = 0.25)]
    drop: keras_core::layers::Dropout,
    out: Linear<12, 3, E, D>,
}

/// [`Mlp`] with another Dropout rate: the same variables, other hyper-parameters.
#[derive(Sequential)]
struct MlpHalfDropout<E: Dtype, D: Device<E>> {
    hidden: Linear<4, 12, E, D>,
    act: ReLU,
    #[layer(rate = 0.5)]
    drop: keras_core::layers::Dropout,
    out: Linear<12, 3, E, D>,
}

#[derive(Sequential)]
struct WideMlp<E: Dtype, D: Device<E>> {
    hidden: Linear<4, 16, E, D>,
    act: ReLU,
    out: Linear<16, 3, E, D>,
}

const EPOCHS: usize = 5;

/// Final weights and history of a `fit`.
type Trained = (Vec<f32>, History);

fn data() -> ArrayDataset<Rank1<4>, Sparse> {
    let n = 200;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for i in 0..n {
        let c = (i * 7) % 3;
        for j in 0..4 {
            let noise = ((i * 31 + j * 17) % 23) as f32 / 23.0 - 0.5;
            x.push(if j == c { 1.0 } else { 0.0 } + 0.6 * noise);
        }
        y.push(c as f32);
    }
    ArrayDataset::new(x, y).unwrap()
}

/// The callbacks whose state a backup must carry: counters, a best value, and a learning-rate
/// schedule that is not idempotent (so running its `on_epoch_begin` twice would show).
fn stateful() -> impl Callback {
    (
        EarlyStopping::new()
            .with_monitor("val_loss")
            .with_patience(50),
        ReduceLROnPlateau::new()
            .with_monitor("loss")
            .with_patience(1)
            .with_min_delta(0.05)
            .with_factor(0.5)
            .unwrap(),
        LearningRateScheduler::new(|epoch: usize, lr: f32| if epoch > 0 { lr * 0.97 } else { lr }),
    )
}

/// The run every test trains: `epochs` epochs of batches of 8, shuffled with seed 11, a 20%
/// validation split, silent, with the [`stateful`] callbacks and then `callbacks` (a backup
/// sits beside them, as a plain member of the tuple); the final weights and the history.
macro_rules! fit_trained {
    ($trainer:expr, $data:expr, $epochs:expr, $callbacks:expr) => {{
        let history = $trainer
            .fit($data)
            .epochs($epochs)
            .batch_size(8)
            .shuffle(Shuffle::Full)
            .seed(11)
            .validation_split(0.2)
            .verbose(0)
            .callbacks((stateful(), $callbacks))
            .run()?;
        Ok(($trainer.weights().values.clone(), history))
    }};
}

/// A fresh `$model` (seed 7, as a new process would build it) compiled with the runs'
/// optimizer, loss and metric.
macro_rules! compiled {
    ($model:ident) => {{
        let dev = Cpu::seed_from_u64(7);
        Trainer::compile(
            $model::<f32, Cpu>::build(&dev),
            Adam::new().with_learning_rate(0.02).build().unwrap(),
            SparseCategoricalCrossentropy::default().with_from_logits(true),
            (ResolvedAccuracy::<Sparse>::default(),),
            &dev,
        )
        .unwrap()
    }};
}

/// Trains a fresh model (same seed each time, as a new process would) with `callbacks`.
fn fit_with<Cb: Callback>(callbacks: Cb, epochs: usize) -> Result<Trained> {
    let mut trainer = compiled!(Mlp);
    fit_trained!(trainer, &data(), epochs, callbacks)
}

fn bits(v: &[f32]) -> Vec<u32> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn assert_same_run(a: &Trained, b: &Trained) {
    assert_eq!(bits(&a.0), bits(&b.0), "final weights differ");
    assert_eq!(a.1.epochs, b.1.epochs);
    assert_eq!(a.1.keys, b.1.keys);
    for key in &a.1.keys {
        assert_eq!(
            bits(a.1.get(key).unwrap()),
            bits(b.1.get(key).unwrap()),
            "history `{key}` differs: {:?} vs {:?}",
            a.1.get(key),
            b.1.get(key)
        );
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keras-bnr-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// Test hooks: records where training (re)started, sleeps after each batch, and fails
/// ("crashes") after a given number of batches.
#[derive(Default)]
struct Probe {
    crash_after: Option<usize>,
    sleep: Duration,
    starts: Option<PathBuf>,
    seen: usize,
    started_at: Option<(usize, usize)>,
}

impl Callback for Probe {
    fn on_train_batch_begin<C: CallbackContext>(&mut self, _: usize, ctx: &mut C) -> Result<()> {
        if self.started_at.is_none() {
            let p = ctx.resume_point()?.expect("fit has a resume point");
            self.started_at = Some((p.epoch, p.batch));
            if let Some(path) = &self.starts {
                let mut f = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| Error::io(path, e))?;
                // One write, so that a kill cannot leave half a line.
                let line = format!("{} {}\n", p.epoch, p.batch);
                f.write_all(line.as_bytes())
                    .map_err(|e| Error::io(path, e))?;
            }
        }
        Ok(())
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, _: usize, _: &mut C) -> Result<()> {
        self.seen += 1;
        if !self.sleep.is_zero() {
            std::thread::sleep(self.sleep);
        }
        if self.crash_after == Some(self.seen) {
            return Err(Error::invalid("crash", "simulated crash"));
        }
        Ok(())
    }
}

fn crash_after(n: usize) -> Probe {
    Probe {
        crash_after: Some(n),
        ..Probe::default()
    }
}

fn backup(dir: &Path, freq: SaveFreq) -> BackupAndRestore {
    BackupAndRestore::new(dir)
        .unwrap()
        .with_save_freq(freq)
        .unwrap()
}

#[test]
fn a_run_with_backups_trains_exactly_as_one_without() {
    let dir = fresh_dir("plain");
    let reference = fit_with((), EPOCHS).unwrap();
    let backed = fit_with(backup(&dir, SaveFreq::Batches(3)), EPOCHS).unwrap();
    assert_same_run(&reference, &backed);
    assert!(!dir.exists(), "delete_checkpoint removes the backups");
}

#[test]
fn resuming_mid_epoch_after_a_crash_equals_the_uninterrupted_run() {
    let dir = fresh_dir("mid");
    let reference = fit_with((), EPOCHS).unwrap();
    // 20 batches per epoch: a crash after batch 47 leaves a backup after batch 45 (epoch 2,
    // batch 5), taken every 3 batches.
    let err = fit_with(
        (backup(&dir, SaveFreq::Batches(3)), crash_after(47)),
        EPOCHS,
    )
    .unwrap_err();
    assert!(err.to_string().contains("simulated crash"), "{err}");
    assert_eq!(
        BackupAndRestore::new(&dir)
            .unwrap()
            .backups()
            .unwrap()
            .len(),
        2
    );
    let mut resumed_backup = backup(&dir, SaveFreq::Batches(3));
    let resumed = fit_with((&mut resumed_backup, Probe::default()), EPOCHS).unwrap();
    assert_eq!(resumed_backup.restored_from(), Some((2, 5)));
    assert_same_run(&reference, &resumed);
    assert!(!dir.exists());
}

#[test]
fn resuming_at_an_epoch_boundary_equals_the_uninterrupted_run() {
    let dir = fresh_dir("epoch");
    let reference = fit_with((), EPOCHS).unwrap();
    fit_with((backup(&dir, SaveFreq::Epoch), crash_after(65)), EPOCHS).unwrap_err();
    let mut b = backup(&dir, SaveFreq::Epoch);
    let resumed = fit_with((&mut b, Probe::default()), EPOCHS).unwrap();
    assert_eq!(b.restored_from(), Some((3, 0)));
    assert_same_run(&reference, &resumed);
}

#[test]
fn resuming_with_more_epochs_continues_the_finished_run() {
    let dir = fresh_dir("more");
    let reference = fit_with((), EPOCHS).unwrap();
    let short = backup(&dir, SaveFreq::Epoch).with_delete_checkpoint(false);
    fit_with(short, 2).unwrap();
    let continued = fit_with(backup(&dir, SaveFreq::Epoch), EPOCHS).unwrap();
    assert_same_run(&reference, &continued);
    assert!(!dir.exists());
}

/// [`data`] with one-hot labels, for metrics on probabilities (AUC, precision).
fn one_hot_data() -> ArrayDataset<Rank1<4>, keras_core::target::Dense<3>> {
    let sparse = data();
    let y = sparse
        .y()
        .iter()
        .flat_map(|&c| (0..3).map(move |k| if k == c as usize { 1.0 } else { 0.0 }))
        .collect();
    ArrayDataset::new(sparse.x().to_vec(), y).unwrap()
}

/// [`fit_with`] with AUC and precision compiled (states of confusion counts, not running means).
fn fit_with_curve_metrics<Cb: Callback>(callbacks: Cb, epochs: usize) -> Result<Trained> {
    let dev = Cpu::seed_from_u64(7);
    let mut trainer = Trainer::compile(
        Mlp::<f32, Cpu>::build(&dev),
        Adam::new().with_learning_rate(0.02).build()?,
        keras_core::losses::CategoricalCrossentropy::default().with_from_logits(true),
        (
            keras_core::metrics::Auc::new().with_from_logits(true),
            keras_core::metrics::Precision::new(),
        ),
        &dev,
    )?;
    fit_trained!(trainer, &one_hot_data(), epochs, callbacks)
}

#[test]
fn a_mid_epoch_resume_continues_auc_and_precision_from_their_saved_counts() {
    let dir = fresh_dir("curves");
    let reference = fit_with_curve_metrics((), EPOCHS).unwrap();
    let mid_epoch = || {
        BackupAndRestore::new(&dir)
            .unwrap()
            .with_save_freq(SaveFreq::Batches(4))
            .unwrap()
    };
    fit_with_curve_metrics((mid_epoch(), crash_after(30)), EPOCHS).unwrap_err();
    let mut b = mid_epoch();
    let resumed = fit_with_curve_metrics(&mut b, EPOCHS).unwrap();
    // Batch 28 of the run: epoch 1, batch 8 (20 batches an epoch), in the middle of the epoch.
    assert_eq!(b.restored_from(), Some((1, 8)));
    assert!(reference.1.keys.iter().any(|k| k == "auc"));
    assert_same_run(&reference, &resumed);
}

/// `EarlyStopping` that restores the best epoch's weights at the end; it monitors the learning
/// rate [`stateful`]'s `ReduceLROnPlateau` logs, which only falls, so the best epoch is the
/// first.
fn restores_the_first_epoch() -> EarlyStopping {
    EarlyStopping::new()
        .with_monitor("learning_rate")
        .with_mode(Mode::Max)
        .with_patience(100)
        .with_restore_best_weights(true)
}

#[test]
fn early_stopping_restores_the_same_best_weights_after_a_resume() {
    let dir = fresh_dir("best-weights");
    let reference = fit_with(restores_the_first_epoch(), EPOCHS).unwrap();
    let last_epoch_weights = fit_with((), EPOCHS).unwrap().0;
    assert_ne!(
        bits(&reference.0),
        bits(&last_epoch_weights),
        "the run ends on the best epoch's weights, not the last epoch's"
    );
    // A crash in epoch 2, after the best epoch (0) was recorded.
    fit_with(
        (
            restores_the_first_epoch(),
            backup(&dir, SaveFreq::Batches(3)),
            crash_after(47),
        ),
        EPOCHS,
    )
    .unwrap_err();
    let mut b = backup(&dir, SaveFreq::Batches(3));
    let resumed = fit_with((restores_the_first_epoch(), &mut b), EPOCHS).unwrap();
    assert_eq!(b.restored_from(), Some((2, 5)));
    assert_same_run(&reference, &resumed);
}

#[test]
fn a_corrupted_newest_backup_falls_back_to_the_previous_generation() {
    let dir = fresh_dir("corrupt");
    let reference = fit_with((), EPOCHS).unwrap();
    fit_with(
        (backup(&dir, SaveFreq::Batches(4)), crash_after(30)),
        EPOCHS,
    )
    .unwrap_err();
    let files = BackupAndRestore::new(&dir).unwrap().backups().unwrap();
    assert_eq!(files.len(), 2);
    let mut bytes = std::fs::read(&files[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    std::fs::write(&files[0], &bytes).unwrap();
    let mut b = backup(&dir, SaveFreq::Batches(4));
    let resumed = fit_with(&mut b, EPOCHS).unwrap();
    // The newest backup was after batch 28 (epoch 1, batch 8); the previous after batch 24.
    assert_eq!(b.restored_from(), Some((1, 4)));
    assert_same_run(&reference, &resumed);
    assert!(
        !dir.exists(),
        "the set-aside corrupt file is removed with the backups"
    );
}

#[test]
fn truncated_backups_are_rejected_with_a_checkpoint_error() {
    let dir = fresh_dir("truncated");
    fit_with(
        (backup(&dir, SaveFreq::Batches(4)), crash_after(30)),
        EPOCHS,
    )
    .unwrap_err();
    for file in BackupAndRestore::new(&dir).unwrap().backups().unwrap() {
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 100]).unwrap();
    }
    let err = fit_with(backup(&dir, SaveFreq::Batches(4)), EPOCHS).unwrap_err();
    match &err {
        Error::Checkpoint { reason, .. } => {
            assert!(reason.contains("no usable backup"), "{reason}");
            assert!(reason.contains("truncated"), "{reason}");
        }
        other => panic!("expected a checkpoint error, got {other}"),
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Leaves the backups of an interrupted run of the usual model in a fresh directory (`name`),
/// then fits `$model` with a `BackupAndRestore` there: returns why the restore was refused,
/// after checking that neither the trainer's weights nor the backup files changed.
macro_rules! refused_restore {
    ($model:ident, $name:expr) => {{
        let dir = fresh_dir($name);
        fit_with(
            (backup(&dir, SaveFreq::Batches(5)), crash_after(12)),
            EPOCHS,
        )
        .unwrap_err();
        let files = BackupAndRestore::new(&dir).unwrap().backups().unwrap();
        let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        let mut trainer = compiled!($model);
        let initial = trainer.weights().values.clone();
        let err = trainer
            .fit(&data())
            .epochs(EPOCHS)
            .batch_size(8)
            .seed(11)
            .validation_split(0.2)
            .verbose(0)
            .callbacks((stateful(), backup(&dir, SaveFreq::Batches(5))))
            .run()
            .unwrap_err();
        let reason = match err {
            Error::Checkpoint { reason, .. } => reason,
            other => panic!("expected a checkpoint error, got {other}"),
        };
        assert_eq!(bits(&trainer.weights().values), bits(&initial));
        let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
        assert_eq!(before, after);
        std::fs::remove_dir_all(&dir).unwrap();
        reason
    }};
}

#[test]
fn a_backup_of_another_architecture_is_rejected_and_left_untouched() {
    let reason = refused_restore!(WideMlp, "arch");
    assert!(reason.contains("another model"), "{reason}");
    assert!(reason.contains("hidden"), "{reason}");
}

#[test]
fn a_backup_of_a_model_with_another_dropout_rate_is_refused_and_left_untouched() {
    let reason = refused_restore!(MlpHalfDropout, "hyper");
    assert!(
        reason.contains("`drop.rate` is 0.5 in the model but 0.25 in the file"),
        "{reason}"
    );
}

#[test]
fn a_backup_taken_with_other_data_settings_is_refused() {
    let dir = fresh_dir("settings");
    fit_with(
        (backup(&dir, SaveFreq::Batches(5)), crash_after(12)),
        EPOCHS,
    )
    .unwrap_err();
    let mut trainer = compiled!(Mlp);
    let err = trainer
        .fit(&data())
        .epochs(EPOCHS)
        .batch_size(16)
        .seed(11)
        .validation_split(0.2)
        .verbose(0)
        .callbacks((stateful(), backup(&dir, SaveFreq::Batches(5))))
        .run()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Checkpoint { reason, .. } if reason.contains("batch_size = 8")),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_backup_taken_with_other_callbacks_is_refused_before_anything_changes() {
    let dir = fresh_dir("other-callbacks");
    fit_with(
        (backup(&dir, SaveFreq::Batches(5)), crash_after(12)),
        EPOCHS,
    )
    .unwrap_err();
    let files = BackupAndRestore::new(&dir).unwrap().backups().unwrap();
    let before: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    let mut trainer = compiled!(Mlp);
    let initial = trainer.weights().values.clone();
    // The backup holds the states of three callbacks beside it; this run has one.
    let err = trainer
        .fit(&data())
        .epochs(EPOCHS)
        .batch_size(8)
        .shuffle(Shuffle::Full)
        .seed(11)
        .validation_split(0.2)
        .verbose(0)
        .callbacks((
            EarlyStopping::new().with_monitor("val_loss"),
            backup(&dir, SaveFreq::Batches(5)),
        ))
        .run()
        .unwrap_err();
    assert!(
        matches!(&err, Error::Checkpoint { reason, .. } if reason.contains("other callbacks")),
        "{err}"
    );
    assert_eq!(bits(&trainer.weights().values), bits(&initial));
    let after: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert_eq!(before, after);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn without_delete_checkpoint_the_two_newest_generations_stay() {
    let dir = fresh_dir("keep");
    let b = backup(&dir, SaveFreq::Batches(2)).with_delete_checkpoint(false);
    fit_with(b, 2).unwrap();
    let files = BackupAndRestore::new(&dir).unwrap().backups().unwrap();
    assert_eq!(files.len(), 2);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert!(names[0] > names[1], "{names:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}

type BnNet = (
    keras_core::layers::Dense<4, 8, keras_core::layers::ReLU>,
    keras_core::layers::BatchNormalization<8>,
    keras_core::layers::Dense<8, 3>,
);

/// Like [`fit_with`] on a model with BatchNormalization; also returns its moving statistics.
fn fit_bn<Cb: Callback>(callbacks: Cb) -> Result<(Trained, Vec<f32>)> {
    let dev = Cpu::seed_from_u64(3);
    let mut trainer = Trainer::compile(
        dev.build_module::<BnNet, f32>(),
        Adam::new().with_learning_rate(0.02).build()?,
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let history = trainer
        .fit(&data())
        .epochs(3)
        .batch_size(8)
        .validation_split(0.2)
        .verbose(0)
        .callbacks(callbacks)
        .run()?;
    let bn = &trainer.model().1;
    let mut stats = bn.moving_mean.as_vec();
    stats.extend(bn.moving_variance.as_vec());
    Ok(((trainer.weights().values.clone(), history), stats))
}

#[test]
fn batch_normalization_statistics_are_backed_up_too() {
    let dir = fresh_dir("bn");
    let (reference, ref_stats) = fit_bn(()).unwrap();
    let b = || {
        BackupAndRestore::new(&dir)
            .unwrap()
            .with_save_freq(SaveFreq::Batches(3))
            .unwrap()
    };
    fit_bn((b(), crash_after(33))).unwrap_err();
    let (resumed, stats) = fit_bn(b()).unwrap();
    assert_same_run(&reference, &resumed);
    assert_eq!(bits(&ref_stats), bits(&stats));
}

// --- kill -9 ------------------------------------------------------------------------------

const CHILD_ENV: &str = "KERAS_BACKUP_CHILD_DIR";
const CHILD_EPOCHS: usize = 8;

/// Runs only when the fault test below starts this test binary as a child process: trains the
/// model with Dropout, AUC and precision ([`fit_with_curve_metrics`]) with backups every 2
/// batches, sleeping a little per batch so that kills land mid-epoch,
/// and writes its final weights and history to `result.json`.
#[test]
#[ignore = "started by kill_9_at_random_moments_resumes_bit_exactly"]
fn backup_child_process() {
    let Some(dir) = std::env::var_os(CHILD_ENV).map(PathBuf::from) else {
        return;
    };
    let probe = Probe {
        sleep: Duration::from_millis(2),
        starts: Some(dir.join("starts.txt")),
        ..Probe::default()
    };
    let (weights, history) = fit_with_curve_metrics(
        (backup(&dir.join("backup"), SaveFreq::Batches(2)), probe),
        CHILD_EPOCHS,
    )
    .unwrap();
    let result = serde_json::json!({
        "weights": bits(&weights),
        "epochs": history.epochs,
        "keys": history.keys,
        "history": history.keys.iter().map(|k| bits(history.get(k).unwrap())).collect::<Vec<_>>(),
    });
    let tmp = dir.join("result.json.tmp");
    std::fs::write(&tmp, result.to_string()).unwrap();
    std::fs::rename(&tmp, dir.join("result.json")).unwrap();
}

/// A small seeded generator for the kill times (xorshift64*).
struct Lcg(u64);
impl Lcg {
    fn next_below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

fn line_count(path: &Path) -> usize {
    std::fs::read_to_string(path).map_or(0, |s| s.lines().count())
}

#[test]
fn kill_9_at_random_moments_resumes_bit_exactly() {
    let dir = fresh_dir("kill9");
    std::fs::create_dir_all(&dir).unwrap();
    let starts = dir.join("starts.txt");
    let exe = std::env::current_exe().unwrap();
    let mut rng = Lcg(0x9E37_79B9_7F4A_7C15);
    let began = Instant::now();
    let mut kills = 0;
    loop {
        assert!(
            began.elapsed() < Duration::from_secs(120),
            "the fault test took too long"
        );
        let lines_before = line_count(&starts);
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "backup_child_process",
                "--ignored",
                "--test-threads=1",
            ])
            .env(CHILD_ENV, &dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        if kills == 6 {
            let status = child.wait().unwrap();
            assert!(status.success(), "the last child failed: {status}");
            break;
        }
        // Wait until the child trains, then let it run for a random while and SIGKILL it.
        while line_count(&starts) == lines_before && child.try_wait().unwrap().is_none() {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(Duration::from_millis(rng.next_below(60)));
        if child.try_wait().unwrap().is_some() {
            break; // It finished first.
        }
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
        assert!(
            !dir.join("result.json").exists(),
            "a killed child cannot have finished"
        );
    }
    assert!(
        kills >= 5,
        "only {kills} kills landed before the child finished"
    );
    let text = std::fs::read_to_string(dir.join("result.json")).unwrap();
    let result: serde_json::Value = serde_json::from_str(&text).unwrap();
    let (weights, history) = fit_with_curve_metrics((), CHILD_EPOCHS).unwrap();
    assert!(history.keys.iter().any(|k| k == "auc"));
    let as_bits = |v: &serde_json::Value| -> Vec<u32> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_u64().unwrap() as u32)
            .collect()
    };
    assert_eq!(
        as_bits(&result["weights"]),
        bits(&weights),
        "final weights differ"
    );
    let keys: Vec<String> = serde_json::from_value(result["keys"].clone()).unwrap();
    assert_eq!(keys, history.keys);
    for (i, key) in keys.iter().enumerate() {
        assert_eq!(
            as_bits(&result["history"][i]),
            bits(history.get(key).unwrap()),
            "history `{key}` differs"
        );
    }
    // Every restart after a kill resumed from a backup, never from scratch, and moved forward.
    let text = std::fs::read_to_string(&starts).unwrap();
    let points: Vec<(usize, usize)> = text
        .lines()
        .map(|l| {
            let mut it = l.split(' ').map(|n| n.parse::<usize>().unwrap());
            (it.next().unwrap(), it.next().unwrap())
        })
        .collect();
    assert_eq!(points.len(), kills + 1, "{points:?}");
    assert!(points.windows(2).all(|w| w[0] <= w[1]), "{points:?}");
    let mut distinct = points.clone();
    distinct.dedup();
    assert!(
        distinct.len() >= 4,
        "too few resumes from a backup: {points:?}"
    );
    assert!(
        points.iter().any(|p| p.1 > 0),
        "no resume landed mid-epoch: {points:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// [`fit_with`] on a [`Generator`](keras_core::data::Generator) of the data's batches of 8 in
/// order (25 a pass), validated on the whole data set.
fn fit_generator_with<Cb: Callback>(callbacks: Cb) -> Result<Trained> {
    let all = data();
    let batches: Vec<(Vec<f32>, Vec<f32>)> = (0..25)
        .map(|b| {
            let (mut x, mut y) = (Vec::new(), Vec::new());
            for i in b * 8..(b + 1) * 8 {
                keras_core::data::Dataset::append_sample(&all, i, &mut x, &mut y).unwrap();
            }
            (x, y)
        })
        .collect();
    let gen =
        keras_core::data::Generator::<Rank1<4>, Sparse, _>::new(|| batches.clone().into_iter());
    let mut trainer = compiled!(Mlp);
    let history = trainer
        .fit(&gen)
        .epochs(EPOCHS)
        .batch_size(8)
        .validation_data(&all)
        .verbose(0)
        .callbacks((stateful(), callbacks))
        .run()?;
    Ok((trainer.weights().values.clone(), history))
}

#[test]
fn a_generator_run_resumed_mid_pass_skips_the_batches_it_had_and_equals_the_uninterrupted_run() {
    let dir = fresh_dir("generator");
    let reference = fit_generator_with(()).unwrap();
    // 25 batches a pass: a crash after batch 47 leaves a backup after batch 45 (epoch 1, batch
    // 20); the resumed pass skips the generator's first 20 batches.
    fit_generator_with((backup(&dir, SaveFreq::Batches(3)), crash_after(47))).unwrap_err();
    let mut resumed_backup = backup(&dir, SaveFreq::Batches(3));
    let resumed = fit_generator_with((&mut resumed_backup, Probe::default())).unwrap();
    assert_eq!(resumed_backup.restored_from(), Some((1, 20)));
    assert_same_run(&reference, &resumed);
}
