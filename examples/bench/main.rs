//! Training throughput of `Trainer::fit` against hand-written dfdx loops, on the workloads of the
//! shared benchmark README (W1 `mlp`, W2 `tiny`, W3 `wide`) and on W4 `convnet`, Keras's "Simple
//! MNIST convnet" (Conv2D(32, 3, relu) → MaxPooling2D(2) → Conv2D(64, 3, relu) → MaxPooling2D(2)
//! → Flatten → Dropout(0.5) → Dense(10), batch 128, 12,032 images of 28×28×1 made by the W1
//! generator). W4 runs `fit` and `predict` (all 12,032 images in batches of 128, `--epochs`
//! passes, the first warm-up), not the hand-written and pure dfdx loops (dfdx 0.13 has no
//! stable convolution); `--gemm` also times the isolated matrix products of W4's convolutions
//! at the same shapes (see `ceiling.rs`), the rate its `fit` and `predict` are compared with.
//! With `--device cuda` (a build with `--features cuda`), each workload runs `fit` on the GPU,
//! dfdx's loop on the GPU (W1–W3) and `fit` on the CPU, one after the other.
//!
//! ```text
//! cargo run --release --example bench -- W1|W2|W3|W4|all [--epochs N] [--repeat N] [--only fit,hand,dfdx,mapped]
//!                                         [--prefetch N] [--write-npy DIR] [--device cpu|cuda]
//!                                         [--rayon-pool main|default] [--paired]
//! ```
//!
//! Each workload trains with Adam(1e-3, 0.9, 0.999, 1e-7) and
//! SparseCategoricalCrossentropy(from_logits=True), in order (no shuffling), for `--epochs`
//! epochs (default 3, W3 2); the first epoch is warm-up and excluded. `--repeat N` runs N rounds
//! (default 5 for W2, else 1) and reports the median; `--prefetch N` sets fit's prefetch depth
//! (default 2, Keras-like; 0 assembles batches on the training thread). Three loops run one after the
//! other in this process on the same data (see `loops.rs`): `fit`, `hand` and `dfdx`. Printed per
//! loop: samples/s, GFLOP/s = 6 × params × samples/s / 1e9, peak RSS (VmHWM, reset before each
//! loop), the last epoch's mean loss, and samples per CPU-second (all threads' on-CPU time from
//! `/proc/self/task/*/schedstat`, median over rounds: on a machine shared with other processes
//! it moves far less than wall time); then `fit / hand` and `fit / dfdx` by both measures, and
//! CSV lines in `keras_peer.py`'s format (wall time).
//!
//! The data is `common.py`'s generator, bit for bit (splitmix64, no NumPy RNG). `--write-npy DIR`
//! also writes it as `DIR/<name>_x.npy` (`float32`, `[samples, features]`) and `DIR/<name>_y.npy`
//! (`float32` class ids) for checking against `common.make_data` or for running other peers on
//! the very same arrays.
//!
//! `--only mapped` times `fit` on the same data written to `.npy` files in a temporary folder and
//! memory-mapped (`NpyDataset`), against `fit` on the arrays in memory (`--only fit,mapped`).
//!
//! `--profile` also runs one more `fit` of two epochs whose second epoch's steps (at most 200)
//! are profiled phase by phase (`Trainer::set_step_profile`: host and device time of the upload,
//! forward, metrics, loss, backward, optimizer and tracker), on the CPU or with `--device cuda`
//! on the GPU (CUDA events), and prints the profile.
//!
//! `--paired` measures `fit` against the hand-written loop step by step: one `fit` run whose
//! callback runs one hand-written step (own model, same batch) after each `fit` step, each side
//! timed separately, so both see the same moment's machine load (see `loops::run_paired`); the
//! report then also gives the ratio per round.
//!
//! By default (`--rayon-pool main`) the main thread, which runs all three loops, first becomes
//! one of the workers of rayon's global pool (`keras::kernels::use_current_thread_in_pool`, as
//! an application would call it at the top of `main`), so the matrix products (keras-rs's and
//! dfdx's alike) run partly on it rather than each being handed to the pool's threads while it
//! sleeps; `--rayon-pool default` keeps rayon's own pool.

mod ceiling;
mod loops;
mod report;
mod synthetic;

use dfdx::nn::builders as dfdx_nn;
use keras::data::loaders::save_npy;
use keras::kernels::use_current_thread_in_pool;
use keras::layers::{Conv2D, MaxPool2D};
use keras::prelude::{
    ArrayDataset, BuildModule, Cpu, Dense, Device, Dropout, Dtype, Flatten, Linear, Rank1, Rank3,
    ReLU, Sequential, Sparse,
};

use loops::{run_dfdx, run_fit, run_hand, Run};
use synthetic::{make_data, Workload, WORKLOADS};

#[derive(Sequential)]
struct MlpModel<E: Dtype, D: Device<E>> {
    hidden_1: Dense<784, 256, ReLU, E, D>,
    hidden_2: Dense<256, 128, ReLU, E, D>,
    logits: Dense<128, 10, Linear, E, D>,
}

type MlpDfdx = (
    dfdx_nn::Linear<784, 256>,
    dfdx_nn::ReLU,
    dfdx_nn::Linear<256, 128>,
    dfdx_nn::ReLU,
    dfdx_nn::Linear<128, 10>,
);

#[derive(Sequential)]
struct TinyModel<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 16, ReLU, E, D>,
    logits: Dense<16, 3, Linear, E, D>,
}

type TinyDfdx = (
    dfdx_nn::Linear<4, 16>,
    dfdx_nn::ReLU,
    dfdx_nn::Linear<16, 3>,
);

#[derive(Sequential)]
struct WideModel<E: Dtype, D: Device<E>> {
    hidden_1: Dense<1024, 1024, ReLU, E, D>,
    hidden_2: Dense<1024, 1024, ReLU, E, D>,
    logits: Dense<1024, 10, Linear, E, D>,
}

type WideDfdx = (
    dfdx_nn::Linear<1024, 1024>,
    dfdx_nn::ReLU,
    dfdx_nn::Linear<1024, 1024>,
    dfdx_nn::ReLU,
    dfdx_nn::Linear<1024, 10>,
);

/// W4: Keras's "Simple MNIST convnet".
#[derive(Sequential)]
struct ConvModel<E: Dtype, D: Device<E>> {
    conv_1: Conv2D<1, 32, 3, 26, 26, 1, 0, ReLU, E, D>,
    pool_1: MaxPool2D<2, 13, 13>,
    conv_2: Conv2D<32, 64, 3, 11, 11, 1, 0, ReLU, E, D>,
    pool_2: MaxPool2D<2, 5, 5>,
    flatten: Flatten<1600>,
    dropout: Dropout,
    logits: Dense<1600, 10, Linear, E, D>,
}

/// Command-line options.
struct Options {
    workloads: Vec<Workload>,
    epochs: Option<usize>,
    repeat: Option<usize>,
    prefetch: usize,
    only: Vec<String>,
    write_npy: Option<String>,
    device: String,
    /// Whether the main thread joins rayon's pool (`--rayon-pool main`, the default).
    main_in_pool: bool,
    /// `--paired`: `fit` and the hand-written loop step by step in one run.
    paired: bool,
    /// Whether `--only` was given (W4 then runs the `fit` and `predict` it names).
    only_given: bool,
    /// `--gemm`: W4 also times its products in isolation.
    gemm: bool,
    /// `--profile`: also profiles `fit`'s steps phase by phase (`Trainer::set_step_profile`).
    profile: bool,
}

const USAGE: &str = "usage: bench W1|W2|W3|W4|all [--epochs N (>= 2)] [--repeat N] [--prefetch N] [--only fit,hand,dfdx,mapped] [--write-npy DIR] [--device cpu|cuda] [--rayon-pool main|default] [--paired] [--gemm] [--profile]";

fn parse_args() -> Result<Options, String> {
    let mut args = std::env::args().skip(1);
    let mut opts = Options {
        workloads: Vec::new(),
        epochs: None,
        repeat: None,
        prefetch: 2,
        only: vec!["fit".into(), "hand".into(), "dfdx".into()],
        write_npy: None,
        device: "cpu".into(),
        main_in_pool: true,
        paired: false,
        only_given: false,
        gemm: false,
        profile: false,
    };
    while let Some(a) = args.next() {
        let mut value = || args.next().ok_or(format!("{a} needs a value"));
        match a.as_str() {
            "--epochs" => {
                opts.epochs = Some(value()?.parse().map_err(|e| format!("--epochs: {e}"))?);
            }
            "--repeat" => {
                opts.repeat = Some(value()?.parse().map_err(|e| format!("--repeat: {e}"))?);
            }
            "--prefetch" => {
                opts.prefetch = value()?.parse().map_err(|e| format!("--prefetch: {e}"))?;
            }
            "--only" => {
                opts.only = value()?.split(',').map(str::to_string).collect();
                opts.only_given = true;
            }
            "--write-npy" => opts.write_npy = Some(value()?),
            "--device" => opts.device = value()?,
            "--paired" => opts.paired = true,
            "--gemm" => opts.gemm = true,
            "--profile" => opts.profile = true,
            "--rayon-pool" => {
                opts.main_in_pool = match value()?.as_str() {
                    "main" => true,
                    "default" => false,
                    other => return Err(format!("--rayon-pool: `{other}` is not main or default")),
                }
            }
            "all" => opts.workloads.extend(WORKLOADS),
            key => opts
                .workloads
                .push(Workload::find(key).ok_or(format!("unknown workload `{key}`"))?),
        }
    }
    if opts.workloads.is_empty() {
        return Err("name a workload".into());
    }
    if opts.epochs.is_some_and(|e| e < 2) {
        return Err("--epochs must be at least 2 (the first is warm-up)".into());
    }
    if !["cpu", "cuda"].contains(&opts.device.as_str()) {
        return Err(format!("--device: `{}` is not cpu or cuda", opts.device));
    }
    if opts.device == "cuda" && !cfg!(feature = "cuda") {
        return Err("--device cuda needs a build with `--features cuda`".into());
    }
    if opts.repeat == Some(0) {
        return Err("--repeat must be at least 1".into());
    }
    if let Some(bad) = opts
        .only
        .iter()
        .find(|l| !["fit", "hand", "dfdx", "mapped", "predict"].contains(&l.as_str()))
    {
        return Err(format!("--only: unknown loop `{bad}`"));
    }
    Ok(opts)
}

fn main() -> keras::Result<()> {
    let opts = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("{e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    if opts.main_in_pool {
        use_current_thread_in_pool()?;
    }
    println!(
        "machine: {} logical CPUs; rayon threads {}; main thread in rayon's pool: {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        rayon_threads(),
        if opts.main_in_pool {
            "yes"
        } else {
            "no (--rayon-pool default)"
        }
    );
    for w in &opts.workloads {
        let (x, y) = make_data(w);
        if let Some(dir) = &opts.write_npy {
            std::fs::create_dir_all(dir).map_err(|e| keras::Error::io(dir, e))?;
            save_npy(
                format!("{dir}/{}_x.npy", w.name),
                &[w.samples, w.features()],
                &x,
            )?;
            save_npy(format!("{dir}/{}_y.npy", w.name), &[w.samples], &y)?;
            println!("wrote {dir}/{}_x.npy and {dir}/{}_y.npy", w.name, w.name);
        }
        let epochs = opts.epochs.unwrap_or(w.default_epochs);
        let repeat = opts.repeat.unwrap_or(w.default_repeat);
        #[cfg(feature = "cuda")]
        if opts.device == "cuda" {
            let runs = cuda::run(w, x, y, epochs, opts.prefetch, opts.profile)?;
            report::print(w, &runs, 1);
            continue;
        }
        if w.convnet {
            let runs = run_convnet(w, x, y, &opts, epochs, repeat)?;
            report::print(w, &runs, repeat);
            continue;
        }
        let runs = match w.name {
            "mlp" => {
                run_all::<MlpModel<f32, Cpu>, MlpDfdx, 784, 10>(w, x, y, &opts, epochs, repeat)?
            }
            "tiny" => {
                run_all::<TinyModel<f32, Cpu>, TinyDfdx, 4, 3>(w, x, y, &opts, epochs, repeat)?
            }
            _ => {
                run_all::<WideModel<f32, Cpu>, WideDfdx, 1024, 10>(w, x, y, &opts, epochs, repeat)?
            }
        };
        report::print(w, &runs, repeat);
    }
    Ok(())
}

/// Runs the selected loops one after the other, `repeat` rounds, resetting the peak RSS before
/// each; returns, per loop, the run with the median samples/s.
fn run_all<M, A, const I: usize, const K: usize>(
    w: &Workload,
    x: Vec<f32>,
    y: Vec<f32>,
    opts: &Options,
    epochs: usize,
    repeat: usize,
) -> keras::Result<Vec<Run>>
where
    M: BuildModule<Cpu, f32> + keras::trainer::TrainModel<Rank1<I>, K, Cpu>,
    A: loops::DfdxArch<Cpu, I, K>,
{
    // The dataset owns the arrays; the hand-written loops read the same buffers.
    let data = ArrayDataset::<Rank1<I>, Sparse>::new(x, y)?;
    let mut rounds: Vec<Vec<Run>> = opts.only.iter().map(|_| Vec::new()).collect();
    if opts.paired {
        let mut fits = Vec::new();
        let mut hands = Vec::new();
        for _ in 0..repeat {
            let [fit, hand] = loops::run_paired::<M, I, K>(w, &data, epochs, opts.prefetch)?;
            fits.push(fit);
            hands.push(hand);
        }
        return Ok([fits, hands].into_iter().filter_map(Run::median).collect());
    }
    for _ in 0..repeat {
        for (label, runs) in opts.only.iter().zip(&mut rounds) {
            report::reset_peak_rss();
            let run = match label.as_str() {
                "fit" => run_fit::<M, Rank1<I>, K>(w, &data, epochs, opts.prefetch)?,
                "hand" => run_hand::<M, I, K>(w, data.x(), data.y(), epochs)?,
                "mapped" => loops::run_mapped::<M, I, K>(w, &data, epochs, opts.prefetch)?,
                _ => run_dfdx::<A, I, K>(w, data.x(), data.y(), epochs)?,
            };
            runs.push(run);
        }
    }
    if opts.profile {
        let cpu = Cpu::seed_from_u64(0);
        let profile = loops::profile_fit::<M, Cpu, Rank1<I>, K, _>(w, &data, opts.prefetch, &cpu)?;
        println!("{} fit on the CPU: {profile}", w.name);
    }
    Ok(rounds.into_iter().filter_map(Run::median).collect())
}

/// W4: `fit` and `predict` (or those of them `--only` names), alternating, `repeat` rounds (the
/// hand-written and pure dfdx loops have no convnet); with `--gemm`, then the isolated products.
fn run_convnet(
    w: &Workload,
    x: Vec<f32>,
    y: Vec<f32>,
    opts: &Options,
    epochs: usize,
    repeat: usize,
) -> keras::Result<Vec<Run>> {
    let labels: Vec<&str> = if opts.only_given {
        opts.only.iter().map(String::as_str).collect()
    } else {
        vec!["fit", "predict"]
    };
    if labels.iter().any(|l| !["fit", "predict"].contains(l)) || opts.paired || opts.device != "cpu"
    {
        eprintln!(
            "{}: only `fit` and `predict` on the CPU run on this workload",
            w.id
        );
    }
    let data = ArrayDataset::<Rank3<28, 28, 1>, Sparse>::new(x, y)?;
    let (mut fits, mut predicts) = (Vec::new(), Vec::new());
    for _ in 0..repeat {
        if labels.contains(&"fit") {
            report::reset_peak_rss();
            fits.push(run_fit::<ConvModel<f32, Cpu>, Rank3<28, 28, 1>, 10>(
                w,
                &data,
                epochs,
                opts.prefetch,
            )?);
        }
        if labels.contains(&"predict") {
            report::reset_peak_rss();
            predicts.push(loops::run_predict::<
                ConvModel<f32, Cpu>,
                Rank3<28, 28, 1>,
                10,
            >(w, &data, epochs)?);
        }
    }
    if opts.gemm {
        ceiling::print_w4(w.batch);
    }
    Ok([fits, predicts]
        .into_iter()
        .filter_map(Run::median)
        .collect())
}

/// `--device cuda`: `fit` on the GPU, the pure dfdx loop on the GPU (dfdx's cuBLAS products and
/// device-side Adam) and `fit` on the CPU, side by side (W4: no dfdx loop, see [`convnet`]).
#[cfg(feature = "cuda")]
mod cuda {
    use super::*;
    use dfdx::tensor::Cuda;

    pub fn run(
        w: &Workload,
        x: Vec<f32>,
        y: Vec<f32>,
        epochs: usize,
        prefetch: usize,
        profile: bool,
    ) -> keras::Result<Vec<Run>> {
        let gpu = Cuda::seed_from_u64(0);
        let args = (epochs, prefetch, profile);
        match w.name {
            "mlp" => both::<MlpModel<f32, Cuda>, MlpModel<f32, Cpu>, MlpDfdx, 784, 10>(
                w, x, y, args, &gpu,
            ),
            "tiny" => both::<TinyModel<f32, Cuda>, TinyModel<f32, Cpu>, TinyDfdx, 4, 3>(
                w, x, y, args, &gpu,
            ),
            "convnet" => convnet(w, x, y, args, &gpu),
            _ => both::<WideModel<f32, Cuda>, WideModel<f32, Cpu>, WideDfdx, 1024, 10>(
                w, x, y, args, &gpu,
            ),
        }
    }

    /// `args`: the epochs, the prefetch depth and whether to profile `fit`'s steps on the GPU.
    fn both<G, C, A, const I: usize, const K: usize>(
        w: &Workload,
        x: Vec<f32>,
        y: Vec<f32>,
        (epochs, prefetch, profile): (usize, usize, bool),
        gpu: &Cuda,
    ) -> keras::Result<Vec<Run>>
    where
        G: BuildModule<Cuda, f32> + keras::trainer::TrainModel<Rank1<I>, K, Cuda>,
        C: BuildModule<Cpu, f32> + keras::trainer::TrainModel<Rank1<I>, K, Cpu>,
        A: loops::DfdxArch<Cuda, I, K>,
    {
        let data = ArrayDataset::<Rank1<I>, Sparse>::new(x, y)?;
        let on_gpu = loops::run_fit_on::<G, Cuda, Rank1<I>, K, _>(
            w, &data, epochs, prefetch, gpu, "fit-cuda",
        )?;
        let dfdx_on_gpu =
            loops::run_dfdx_on::<A, Cuda, I, K>(w, data.x(), data.y(), epochs, gpu, "dfdx-cuda")?;
        let on_cpu = run_fit::<C, Rank1<I>, K>(w, &data, epochs, prefetch)?;
        if profile {
            let p = loops::profile_fit::<G, Cuda, Rank1<I>, K, _>(w, &data, prefetch, gpu)?;
            println!("{} fit on the GPU: {p}", w.name);
        }
        Ok(vec![on_gpu, dfdx_on_gpu, on_cpu])
    }
}

/// W4 on `--device cuda`: `fit` on the GPU and `fit` on the CPU side by side (dfdx 0.13 has no
/// stable convolution, so no dfdx loop); with `profile`, `fit`'s steps on the GPU phase by phase.
#[cfg(feature = "cuda")]
fn convnet(
    w: &Workload,
    x: Vec<f32>,
    y: Vec<f32>,
    (epochs, prefetch, profile): (usize, usize, bool),
    gpu: &dfdx::tensor::Cuda,
) -> keras::Result<Vec<Run>> {
    use dfdx::tensor::Cuda;
    type Sample = Rank3<28, 28, 1>;
    let data = ArrayDataset::<Sample, Sparse>::new(x, y)?;
    let on_gpu = loops::run_fit_on::<ConvModel<f32, Cuda>, Cuda, Sample, 10, _>(
        w, &data, epochs, prefetch, gpu, "fit-cuda",
    )?;
    let on_cpu = run_fit::<ConvModel<f32, Cpu>, Sample, 10>(w, &data, epochs, prefetch)?;
    if profile {
        let p = loops::profile_fit::<ConvModel<f32, Cuda>, Cuda, Sample, 10, _>(
            w, &data, prefetch, gpu,
        )?;
        println!("{} fit on the GPU: {p}", w.name);
    }
    Ok(vec![on_gpu, on_cpu])
}

/// Threads of dfdx's matmul pool (`RAYON_NUM_THREADS`, else one per logical CPU).
fn rayon_threads() -> String {
    std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default (one per CPU)".into())
}
