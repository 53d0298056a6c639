//! Keras's confusion-matrix counts (`update_confusion_matrix_variables`): the weighted true and
//! false positives and negatives at each threshold that `Precision`, `Recall`, `AUC`, the
//! condition counts and the rate-at metrics keep, with a CPU kernel (`cpu_kernel.rs`, the host
//! metrics' own arithmetic in `counting.rs`) and a CUDA kernel (`cuda_kernel.rs`,
//! `confusion.cu`) side by side.
//!
//! A device state is the metric's own saved state (its
//! [`state_values`](crate::metrics::MetricFn::state_values)), whose counts start at
//! [`ConfusionForm::offset`]: `tp`, `fp`, `tn`, `fn`, each `thresholds × labels` values,
//! threshold-major.

mod confusion_form;
mod counting;
mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;

pub use confusion_form::{Comparison, ConfusionConsts, ConfusionForm};
pub(crate) use counting::{add_bucketed, add_direct, select, Counts, Selection};
pub(crate) use cpu_kernel::update as cpu_update;
#[cfg(feature = "cuda")]
pub(crate) use cuda_kernel::launch_confusion_update;
