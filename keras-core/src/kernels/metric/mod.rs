//! A mean metric's update on the device that holds the model's output: Keras's
//! `MeanMetricWrapper` (`total += sum(f(y_true, y_pred) * w)`, `count += sum(w)`) for the
//! per-row functions both kernels compute ([`RowMetric`]), with a CPU kernel (`cpu_kernel.rs`,
//! the host metrics' own arithmetic) and a CUDA kernel (`cuda_kernel.rs`, `metric.cu`) side by
//! side.
//!
//! A running state is two floats, `[total, count]`, at an even offset of a device buffer; the
//! trainer keeps the states of the loss tracker and of the compiled metrics that have a row form
//! in one buffer and reads it only when a log needs the values.

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod mean_batch;
mod row_math;
mod row_metric;

pub(crate) use cpu_kernel::update as cpu_update;
#[cfg(feature = "cuda")]
pub(crate) use cuda_kernel::launch_mean_update;

pub use mean_batch::MeanBatch;
pub(crate) use row_math::*;
pub use row_metric::RowMetric;
