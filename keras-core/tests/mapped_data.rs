//! Memory-mapped `.npy` data (`NpyDataset`) through `fit`, `evaluate` and `predict`: the same
//! numbers as the same data in memory, and training on a file larger than the memory the
//! process may allocate (`RLIMIT_DATA`, in a child process).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::TestDevice;
use keras_core::callbacks::{History, Logs};
use keras_core::data::loaders::{load_npy, save_npy};
use keras_core::data::{ArrayDataset, Dataset, NpyDataset, Shuffle};
use keras_core::dfdx::prelude::*;
use keras_core::layers::{Dense, Linear};
use keras_core::losses::SparseCategoricalCrossentropy;
use keras_core::metrics::ResolvedAccuracy;
use keras_core::optimizers::Sgd;
use keras_core::target::Sparse;
use keras_core::{Sequential, Trainer};

fn fresh_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("keras-mapped-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `n` samples of two features (as `f64`, converted on reading) and three classes, in `dir`.
fn write_tiny(dir: &Path, n: usize) -> (Vec<f32>, Vec<f32>) {
    let x: Vec<f32> = (0..2 * n).map(|i| ((i * 7) % 11) as f32 / 10.0).collect();
    let y: Vec<f32> = (0..n).map(|i| (i % 3) as f32).collect();
    save_npy(dir.join("x.npy"), &[n, 2], &x).unwrap();
    save_npy(dir.join("y.npy"), &[n], &y).unwrap();
    (x, y)
}

/// Three epochs (shuffled, a validation split), then evaluate and predict on `data`.
fn train_and_read<Ds: Dataset<Rank1<2>, Sparse> + Send>(data: &Ds) -> (History, Logs, Vec<f32>) {
    let mut trainer = common::tiny::trainer();
    let history = trainer
        .fit(data)
        .epochs(3)
        .batch_size(32)
        .shuffle(Shuffle::Batch)
        .seed(5)
        .verbose(0)
        .validation_split(0.2)
        .run()
        .unwrap();
    let eval = trainer.evaluate(data).batch_size(50).run().unwrap();
    let pred = trainer.predict(data).batch_size(64).run().unwrap();
    (history, eval, pred)
}

#[test]
fn fit_evaluate_and_predict_on_a_mapped_file_match_the_same_data_in_memory() {
    let dir = fresh_dir("same");
    let (x, y) = write_tiny(&dir, 300);
    let mapped =
        NpyDataset::<Rank1<2>, Sparse>::open(dir.join("x.npy"), dir.join("y.npy")).unwrap();
    let memory = ArrayDataset::<Rank1<2>, Sparse>::new(x, y).unwrap();
    let (h_mapped, e_mapped, p_mapped) = train_and_read(&mapped);
    let (h_memory, e_memory, p_memory) = train_and_read(&memory);
    assert_eq!(h_mapped.history, h_memory.history);
    assert_eq!(e_mapped, e_memory);
    assert_eq!(p_mapped, p_memory);
    drop(mapped);
    std::fs::remove_dir_all(&dir).unwrap();
}

// --- larger than the memory the process may allocate -----------------------------------------

const CHILD_ENV: &str = "KERAS_MAPPED_CHILD";
/// 32768 samples of 512 `f32` features: 64 MiB of features.
const BIG_SAMPLES: usize = 32_768;
const BIG_FEATURES: usize = 512;
/// What the child may allocate beyond what it has when it starts: less than the file.
const HEADROOM: u64 = 40 << 20;

#[derive(Sequential)]
struct Wide<E: Dtype, D: Device<E>> {
    out: Dense<BIG_FEATURES, 4, Linear, E, D>,
}

/// The process's data segment (`VmData`: heap and private writable mappings), in bytes.
fn vm_data() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let line = status.lines().find(|l| l.starts_with("VmData:")).unwrap();
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

/// Limits the data segment (what `malloc` and private anonymous maps count against) to what
/// the process has now plus [`HEADROOM`]. A read-only file map does not count.
fn limit_data_segment() {
    let limit = vm_data() + HEADROOM;
    let rl = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: setrlimit reads the struct; no memory is shared.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_DATA, &rl) }, 0);
}

/// Runs only when the test below starts this binary as a child: under a data-segment limit
/// smaller than the features file, either trains on the mapped file (`mapped`) and writes the
/// history, or reads the file into memory (`ram`), which must fail.
#[test]
#[ignore = "started by training_on_a_mapped_file_needs_no_memory_for_the_file"]
fn mapped_child_process() {
    let Some(arg) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    let arg = arg.to_string_lossy().into_owned();
    let (mode, dir) = arg.split_once(':').unwrap();
    let dir = PathBuf::from(dir);
    limit_data_segment();
    let file_len = std::fs::metadata(dir.join("x.npy")).unwrap().len();
    assert!(file_len > HEADROOM, "the file must not fit in the headroom");
    // Under the limit, a panic's own allocations can fail: the child reports through its exit
    // code instead (0: done, 3: could not load or train).
    let done = match mode {
        // Needs the whole file on the heap: under the limit the read fails (an I/O error for
        // the buffer it cannot reserve).
        "ram" => load_npy(dir.join("x.npy")).is_ok(),
        _ => train_on_mapped(&dir).is_ok(),
    };
    std::process::exit(if done { 0 } else { 3 });
}

/// Two epochs of a linear classifier on the mapped file; writes the epoch losses.
fn train_on_mapped(dir: &Path) -> keras_core::Result<()> {
    let data =
        NpyDataset::<Rank1<BIG_FEATURES>, Sparse>::open(dir.join("x.npy"), dir.join("y.npy"))?;
    let dev = TestDevice::seed_from_u64(0);
    let mut trainer = Trainer::compile(
        Wide::<f32, TestDevice>::build(&dev),
        Sgd::new().with_learning_rate(0.05).build()?,
        SparseCategoricalCrossentropy::default().with_from_logits(true),
        (ResolvedAccuracy::default(),),
        &dev,
    )?;
    let history = trainer
        .fit(&data)
        .epochs(2)
        .batch_size(256)
        .verbose(0)
        .run()?;
    let losses = history.get("loss").unwrap_or_default().to_vec();
    std::fs::write(dir.join("losses.json"), format!("{losses:?}"))
        .map_err(|e| keras_core::Error::io(dir, e))
}

fn run_child(mode: &str, dir: &Path) -> std::process::ExitStatus {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "mapped_child_process",
            "--ignored",
            "--test-threads=1",
        ])
        .env(CHILD_ENV, format!("{mode}:{}", dir.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap()
}

#[test]
fn training_on_a_mapped_file_needs_no_memory_for_the_file() {
    let dir = fresh_dir("big");
    // Separable classes: the label is the sign pattern of the first two features.
    let mut x = vec![0.0f32; BIG_SAMPLES * BIG_FEATURES];
    let mut y = vec![0.0f32; BIG_SAMPLES];
    for (i, row) in x.chunks_mut(BIG_FEATURES).enumerate() {
        let a = ((i * 37) % 101) as f32 / 50.0 - 1.0;
        let b = ((i * 53) % 97) as f32 / 48.0 - 1.0;
        row[0] = a;
        row[1] = b;
        y[i] = f32::from(u8::from(a > 0.0)) + 2.0 * f32::from(u8::from(b > 0.0));
    }
    save_npy(dir.join("x.npy"), &[BIG_SAMPLES, BIG_FEATURES], &x).unwrap();
    save_npy(dir.join("y.npy"), &[BIG_SAMPLES], &y).unwrap();
    drop(x);
    assert!(
        !run_child("ram", &dir).success(),
        "reading the file into memory must fail under the limit (else the limit proves nothing)"
    );
    let status = run_child("mapped", &dir);
    assert!(
        status.success(),
        "training on the mapped file failed: {status}"
    );
    let losses: Vec<f32> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("losses.json")).unwrap()).unwrap();
    assert_eq!(losses.len(), 2);
    assert!(losses.iter().all(|l| l.is_finite()));
    assert!(losses[1] < losses[0], "the model learns: {losses:?}");
    std::fs::remove_dir_all(&dir).unwrap();
}
