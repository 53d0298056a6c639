//! Distributions: how one `fit` runs over several processes (Keras's `keras.distribution`).
//!
//! [`SingleProcess`] (the default) is one process training alone, exactly as `fit` always
//! did. `DataParallel` (cargo feature `mpi`) is Keras's `DataParallel`: every process holds
//! the whole model and the whole data, and each global batch of `batch_size` samples is split
//! into contiguous shards, one per process, in rank order. The rules that make `N` processes
//! train the same model as one process on the global batch:
//!
//! | what | who |
//! |---|---|
//! | the sample order | every process, from the shared `seed` (the same shuffle everywhere) |
//! | the initial weights | process 0, broadcast to the others when `fit` starts |
//! | a step's gradient | each process's `Σ w·l` over its shard, divided by the *global* divisor of the loss's reduction (batch size, or weight sum), then summed over processes |
//! | the loss tracker and metric states | kept per process, combined (summed or merged) whenever logs are written, so every process logs the same numbers |
//! | validation | sharded and combined the same way |
//! | callbacks that write (progress bar, checkpoints, CSV, TensorBoard, backups) | process 0 ([`CallbackContext::is_chief`](crate::callbacks::CallbackContext::is_chief)) |
//! | decisions (`EarlyStopping`, `ReduceLROnPlateau`, `TerminateOnNaN`) | every process, from the same logs; `stop_training` is also OR-ed across processes after each batch |
//!
//! A distribution is chosen per call: `trainer.fit(&data).distribution(&dist)`. With more
//! than one process, that `fit` computes the loss and keeps the metric states where the
//! trainer keeps them ([`set_loss_on_device`](crate::Trainer::set_loss_on_device),
//! [`set_metrics_on_device`](crate::Trainer::set_metrics_on_device)): a log reads the states
//! to the host, where the processes combine them. It sums each gradient with NCCL on the
//! device when the distribution has a communicator, else through host memory
//! ([`KerasDevice::try_on_host`](crate::device::KerasDevice::try_on_host): in place on `Cpu`),
//! and every compiled metric must export and merge its state
//! ([`MetricFn::state_values`](crate::metrics::MetricFn::state_values), as every built-in
//! one does). After `fit`, [`Trainer::metrics`](crate::Trainer::metrics) holds this process's
//! part of the states; the returned `History` holds the combined values. The optimizer's
//! state is not broadcast: every process starts `fit` with the same one (a fresh optimizer,
//! or one loaded from the same file).

mod agree;
#[cfg(feature = "mpi")]
mod data_parallel;
#[cfg(feature = "nccl")]
mod nccl;
mod single_process;

pub(crate) use agree::{any_process, check_agree};
#[cfg(feature = "mpi")]
pub use data_parallel::DataParallel;
#[cfg(feature = "nccl")]
pub use nccl::Nccl;
pub use single_process::SingleProcess;

use crate::Result;

/// The communication a distributed `fit` needs: which process this is, and the three
/// collective operations. Every process must make the same calls in the same order.
///
/// Implemented by [`SingleProcess`] (no communication) and, with the `mpi` feature,
/// `DataParallel`.
pub trait Distribution {
    /// This process's index in the job, from 0 (the chief) to
    /// [`num_processes`](Distribution::num_processes)` - 1`.
    fn rank(&self) -> usize;

    /// Number of processes in the job.
    fn num_processes(&self) -> usize;

    /// Whether this process is rank 0, the one whose callbacks write files and print.
    fn is_chief(&self) -> bool {
        self.rank() == 0
    }

    /// Replaces `values` with their elementwise sum over every process.
    fn all_reduce_sum(&self, values: &mut [f32]) -> Result<()>;

    /// Replaces `values` with their elementwise sum over every process, in `f64` (counts and
    /// running totals).
    fn all_reduce_sum_f64(&self, values: &mut [f64]) -> Result<()>;

    /// Replaces `values` with process 0's (all processes pass the same length).
    fn broadcast(&self, values: &mut [f32]) -> Result<()>;

    /// Every process's `local` values (of any length), in rank order.
    fn all_gather(&self, local: &[f32]) -> Result<Vec<Vec<f32>>>;

    /// The GPUs' NCCL communicator, when there is one: `fit` on `Cuda` then sums gradients on
    /// the device with it. `None` by default.
    #[cfg(feature = "nccl")]
    fn nccl(&self) -> Option<&Nccl> {
        None
    }
}

impl<D: Distribution + ?Sized> Distribution for &D {
    fn rank(&self) -> usize {
        (**self).rank()
    }
    fn num_processes(&self) -> usize {
        (**self).num_processes()
    }
    fn all_reduce_sum(&self, values: &mut [f32]) -> Result<()> {
        (**self).all_reduce_sum(values)
    }
    fn all_reduce_sum_f64(&self, values: &mut [f64]) -> Result<()> {
        (**self).all_reduce_sum_f64(values)
    }
    fn broadcast(&self, values: &mut [f32]) -> Result<()> {
        (**self).broadcast(values)
    }
    fn all_gather(&self, local: &[f32]) -> Result<Vec<Vec<f32>>> {
        (**self).all_gather(local)
    }
    #[cfg(feature = "nccl")]
    fn nccl(&self) -> Option<&Nccl> {
        (**self).nccl()
    }
}
