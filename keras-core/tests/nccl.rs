//! NCCL smoke test, for a machine with one GPU per process (feature `nccl`): under
//! `mpiexec -n N` (or alone, as one process), each process joins its GPU to the job's NCCL
//! communicator (`DataParallel::with_nccl`), uploads `(rank + 1) * [1, 2, ..]` and sums it over
//! the processes on the device (`KerasDevice::try_all_reduce_sum`, what a data-parallel `fit`
//! does with every gradient): every process must read back `N (N + 1) / 2 * [1, 2, ..]`.
//!
//! A test binary without libtest's harness (MPI is initialized once per process). It needs a
//! GPU, NCCL and MPI at run time; CI only compiles it (`--features cuda,nccl,ci-check`).
#![cfg(feature = "nccl")]

use keras_core::device::KerasDevice;
use keras_core::dfdx::tensor::Cuda;
use keras_core::distribution::{DataParallel, Distribution};

fn main() {
    let dist = DataParallel::from_env().expect("MPI starts");
    let dev = Cuda::try_build(dist.local_rank(), 0).expect("one GPU per process");
    let dist = dist.with_nccl(&dev).expect("NCCL joins the GPUs");
    let (rank, n) = (dist.rank(), dist.num_processes());
    let values: Vec<f32> = (1..=1000).map(|i| (rank + 1) as f32 * i as f32).collect();
    let mut buffer = dev.try_upload(&values).expect("upload");
    dev.try_all_reduce_sum(&mut buffer, values.len(), &dist)
        .expect("all-reduce on the device");
    let mut summed = vec![0.0f32; values.len()];
    dev.try_download(&buffer, &mut summed).expect("download");
    let factor = (n * (n + 1) / 2) as f32;
    for (i, &v) in summed.iter().enumerate() {
        let want = factor * (i + 1) as f32;
        assert_eq!(v, want, "process {rank} of {n}: value {i}");
    }
    println!(
        "ok NCCL all-reduce on process {rank} of {n}: {} values",
        summed.len()
    );
}
