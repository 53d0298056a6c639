//! Data-parallel `fit` on the benchmark's W1 (`mlp`: 784 → 256 → 128 → 10, global batch 128)
//! or W3 (`wide`: 1024 → 1024 → 1024 → 10, global batch 256) over MPI, and the share of a step
//! the gradient all-reduce takes.
//!
//! ```sh
//! cargo build --release --features mpi --example data_parallel_bench
//! RAYON_NUM_THREADS=2 mpiexec -n 1 target/release/examples/data_parallel_bench   # 1 process × 2 threads
//! RAYON_NUM_THREADS=1 mpiexec -n 2 target/release/examples/data_parallel_bench   # 2 processes × 1 thread
//! RAYON_NUM_THREADS=1 mpiexec -n 2 target/release/examples/data_parallel_bench --workload W3
//! RAYON_NUM_THREADS=1 mpiexec -n 2 target/release/examples/data_parallel_bench --workload W3 --overlap
//! ```
//!
//! Prints (on process 0) the global samples/s of `fit` after a warm-up epoch, and the time of
//! one step's all-reduce (every variable of the model, as `fit` sums them) measured alone.
//!
//! `--overlap` instead measures whether summing a step's gradients can hide behind compute on
//! this machine: the model's gradients as one flat buffer, summed with a blocking all-reduce
//! after a matrix product that takes about as long (as `fit` does it: backward, then the sum),
//! against a non-blocking all-reduce started before the product and waited for after it (what
//! overlapping the sum with the backward pass would do).

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

/// Milliseconds per call of `f`, over `reps` calls after one warm-up call.
fn time_ms(reps: usize, mut f: impl FnMut()) -> f64 {
    f();
    let start = Instant::now();
    for _ in 0..reps {
        f();
    }
    start.elapsed().as_secs_f64() * 1e3 / reps as f64
}

/// `--overlap`: a blocking all-reduce of `values` floats after a product that takes about as
/// long, against a non-blocking one started before the product and waited for after it.
fn overlap(name: &str, values: usize, dist: &DataParallel) -> keras::Result<()> {
    use mpi::collective::{CommunicatorCollectives, SystemOperation};
    use mpi::topology::Communicator;
    let world = mpi::topology::SimpleCommunicator::world();
    let send = vec![0.5f32; values];
    let mut sums = vec![0.0f32; values];
    let reps = 30;
    let reduce_ms = time_ms(reps, || {
        world.barrier();
        world.all_reduce_into(&send[..], &mut sums[..], SystemOperation::sum());
    });
    // The work: products of 64 × 1024 by 1024 × 1024, as many as take about the all-reduce's
    // time (the case where overlapping could hide the most).
    let (a, b) = (vec![0.25f32; 64 * 1024], vec![0.5f32; 1024 * 1024]);
    let mut c = vec![0.0f32; 64 * 1024];
    let mut product = || {
        let lhs = keras::kernels::MatRef::row_major(&a, 64, 1024).expect("a 64 × 1024 matrix");
        let rhs = keras::kernels::MatRef::row_major(&b, 1024, 1024).expect("a 1024² matrix");
        keras::kernels::matmul(&mut c, lhs, rhs, false).expect("the product");
    };
    let unit_ms = time_ms(reps, &mut product);
    let mut units = ((reduce_ms / unit_ms).round() as usize).max(1);
    // The same count on every process (the slowest's), so that they wait for each other alike.
    let mut max = [units as f32];
    world.all_reduce_into(&[units as f32][..], &mut max[..], SystemOperation::max());
    units = max[0] as usize;
    let work_ms = unit_ms * units as f64;
    let sequential_ms = time_ms(reps, || {
        world.barrier();
        (0..units).for_each(|_| product());
        world.all_reduce_into(&send[..], &mut sums[..], SystemOperation::sum());
    });
    let overlapped_ms = time_ms(reps, || {
        world.barrier();
        mpi::request::scope(|scope| {
            let request = world.immediate_all_reduce_into(
                scope,
                &send[..],
                &mut sums[..],
                SystemOperation::sum(),
            );
            (0..units).for_each(|_| product());
            request.wait();
        });
    });
    if dist.is_chief() {
        let ideal = work_ms.max(reduce_ms);
        println!(
            "{name} overlap on {} processes × {} threads: all-reduce of {values} values alone \
             {reduce_ms:.3} ms, product {work_ms:.3} ms ({units} × {unit_ms:.3}); product then \
             all-reduce {sequential_ms:.3} ms; all-reduce started before the product \
             {overlapped_ms:.3} ms (ideal {ideal:.3} ms): {:.0}% of the hideable time hidden",
            world.size(),
            std::env::var("RAYON_NUM_THREADS").unwrap_or_else(|_| "default".into()),
            100.0 * (sequential_ms - overlapped_ms) / work_ms.min(reduce_ms),
        );
    }
    Ok(())
}

fn main() -> keras::Result<()> {
    let _ = keras::kernels::use_current_thread_in_pool();
    let dist = DataParallel::from_env()?;
    let epochs: usize = arg("--epochs", 4);
    if std::env::args().any(|a| a == "--overlap") {
        // The workload's variables, as many values as its model has.
        let dev = Cpu::seed_from_u64(0);
        return match arg("--workload", String::from("W1")).as_str() {
            "W3" => {
                let params = keras::model::layout(&WideModel::<f32, Cpu>::build(&dev))?;
                overlap("W3", params.values.len(), &dist)
            }
            _ => {
                let params = keras::model::layout(&MlpModel::<f32, Cpu>::build(&dev))?;
                overlap("W1", params.values.len(), &dist)
            }
        };
    }
    match arg("--workload", String::from("W1")).as_str() {
        "W3" => run!("W3", WideModel, 1024, 256, &dist, epochs),
        _ => run!("W1", MlpModel, 784, 128, &dist, epochs),
    }
    Ok(())
}
