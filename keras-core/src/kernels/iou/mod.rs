//! The confusion matrix of Keras's IoU metrics (`_IoUBase`: `IoU`, `MeanIoU`, `OneHotIoU`,
//! `OneHotMeanIoU`, and `BinaryIoU`): integer counts per (true class, predicted class), with
//! class ids and sample weights truncated to integers as Keras 3 does, described by an
//! [`IouForm`], with a CPU kernel (`cpu_kernel.rs`) and a CUDA kernel (`cuda_kernel.rs`,
//! `iou.cu`) side by side.
//!
//! A device state is a buffer of `i64`
//! ([`KerasDevice::IouCounts`](crate::device::KerasDevice::IouCounts)): the counts this device
//! added since it started, `classes × classes` (rows: true class), then
//! [`IouForm::CHECK_LEN`] check words that record a predicted class id out of range (the
//! prediction is skipped; `bad_prediction` reads the record back). The metric's own saved
//! state (counts as two exact `f32` halves) stays on the host; [`IouForm::add_counts`] adds the
//! device's counts to it when a log needs the values. Integer sums do not depend on their order, so the
//! counts are the host metric's exactly, on every device.

mod cells;
mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
mod iou_form;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;

pub(crate) use cells::{bad_prediction, class_id, join, split};
pub(crate) use cpu_kernel::update as cpu_update;
#[cfg(feature = "cuda")]
pub(crate) use cuda_kernel::launch_iou_update;
pub use iou_form::{ClassIds, IouForm};
