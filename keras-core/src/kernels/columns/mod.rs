//! Per-column sums of a batch (`sum over rows of f(y_true, y_pred) * w`, one sum per output
//! column or one over all of them), the state of Keras's `FBetaScore`/`F1Score` (true and false
//! positives, false negatives and label weights per class) and `R2Score` (the sums of the
//! labels, their squares, the squared errors and the weights per column, and a sample count),
//! with a CPU kernel (`cpu_kernel.rs`, the host metrics' own arithmetic) and a CUDA kernel
//! (`cuda_kernel.rs`, `columns.cu`) side by side.
//!
//! A device state is the metric's own saved state (its
//! [`state_values`](crate::metrics::MetricFn::state_values)), whose four sums start at
//! [`ColumnForm::offset`], [`ColumnForm::slots`] values each, followed for `R2Score` by the
//! sample count.

mod column_form;
mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;

pub use column_form::{ColumnForm, ColumnSums};
pub(crate) use cpu_kernel::{add as add_columns, update as cpu_update, Sums};
#[cfg(feature = "cuda")]
pub(crate) use cuda_kernel::launch_column_update;
