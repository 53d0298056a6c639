//! Data-parallel `fit` on the benchmark's W1 (`mlp`: 784 → 256 → 128 → 10, global batch 128)
//! or W3 (`wide`: 1024 → 1024 → 1024 → 10, global batch 256) over MPI, and the share of a step
//! the gradient all-reduce takes.
//!
//! ```sh
//! cargo build --release --features mpi --example data_parallel_bench
//! RAYON_NUM_THREADS=2 mpiexec -n 1 target/release/examples/data_parallel_bench   # 1 process × 2 threads
//! RAYON_NUM_THREADS=1 mpiexec -n 2 target/release/examples/data_parallel_bench   # 2 processes × 1 thread
//! RAYON_NUM_THREADS=1 mpiexec -n 2 target/release/examples/data_parallel_bench --workload W3
//! ```
//!
//! Prints (on process 0) the global samples/s of `fit` after a warm-up epoch, and the time of
//! one step's all-reduce (every variable of the model, as `fit` sums them) measured alone.

use std::time::Instant;

use keras::distribution::{DataParallel, Distribution};
use keras::prelude::*;

#[derive(Sequential)]
struct MlpModel<E: Dtype, D: Device<E>> {
    hidden_1: Dense<784, 256, ReLU, E, D>,
    hidden_2: Dense<256, 128, ReLU, E, D>,
    logits: Dense<128, 10, Linear, E, D>,
}

#[derive(Sequential)]
struct WideModel<E: Dtype, D: Device<E>> {
    hidden_1: Dense<1024, 1024, ReLU, E, D>,
    hidden_2: Dense<1024, 1024, ReLU, E, D>,
    logits: Dense<1024, 10, Linear, E, D>,
}

/// The value of `--name`, parsed, or `default`.
fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Trains `$model` (inputs of `$inputs` features, 100 global batches of `$batch` per epoch)
/// data-parallel for a warm-up epoch and `$epochs` timed ones, then times one step's
/// all-reduce alone, and prints both on process 0.
macro_rules! run {
    ($name:literal, $model:ident, $inputs:literal, $batch:literal, $dist:expr, $epochs:expr) => {{
        let (dist, epochs): (&DataParallel, usize) = ($dist, $epochs);
        const SAMPLES: usize = $batch * 100;
        let x: Vec<f32> = (0..SAMPLES * $inputs)
            .map(|i| ((i * 2_654_435_761usize) % 1000) as f32 / 1000.0)
            .collect();
        let y: Vec<f32> = (0..SAMPLES).map(|i| (i % 10) as f32).collect();
        let data = ArrayDataset::<Rank1<$inputs>, Sparse>::new(x, y)?;
        let dev = Cpu::seed_from_u64(0);
        let mut trainer = Trainer::compile(
            $model::<f32, Cpu>::build(&dev),
            Adam::new().with_learning_rate(1e-3).build()?,
            losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
            (),
            &dev,
        )?;
        // Warm-up epoch (allocation cache, page faults), then the timed ones.
        trainer
            .fit(&data)
            .batch_size($batch)
            .verbose(0)
            .distribution(dist)
            .run()?;
        let start = Instant::now();
        trainer
            .fit(&data)
            .epochs(epochs)
            .batch_size($batch)
            .verbose(0)
            .distribution(dist)
            .run()?;
        let secs = start.elapsed().as_secs_f64();
        let steps = epochs * SAMPLES.div_ceil($batch);
        let step_ms = secs * 1e3 / steps as f64;

        // One step's all-reduce, alone: one collective per variable, as `fit` takes it.
        let mut vars: Vec<Vec<f32>> = trainer
            .weights()
            .vars
            .iter()
            .map(|v| vec![0.5; v.range().len()])
            .collect();
        let reps = 200;
        let start = Instant::now();
        for _ in 0..reps {
            for v in &mut vars {
                dist.all_reduce_sum(v)?;
            }
        }
        let reduce_ms = start.elapsed().as_secs_f64() * 1e3 / reps as f64;
        if dist.is_chief() {
            let values: usize = vars.iter().map(Vec::len).sum();
            println!(
                "{} data-parallel: {} processes × {} rayon threads: {:.0} samples/s ({step_ms:.3} ms/step, {steps} steps); \
                 all-reduce of {values} values in {} collectives: {reduce_ms:.3} ms/step ({:.1}% of a step)",
                $name,
                dist.num_processes(),
                std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into()),
                (steps * $batch) as f64 / secs,
                vars.len(),
                100.0 * reduce_ms / step_ms,
            );
        }
    }};
}

fn main() -> keras::Result<()> {
    let _ = keras::kernels::use_current_thread_in_pool();
    let dist = DataParallel::from_env()?;
    let epochs: usize = arg("--epochs", 4);
    match arg("--workload", String::from("W1")).as_str() {
        "W3" => run!("W3", WideModel, 1024, 256, &dist, epochs),
        _ => run!("W1", MlpModel, 784, 128, &dist, epochs),
    }
    Ok(())
}
