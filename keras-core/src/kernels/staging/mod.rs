//! Uploads that do not wait for the device: the batch, its labels and its weights go to the
//! device each step, and a plain copy from host memory makes the host wait for every kernel the
//! step before enqueued (CUDA copies from pageable memory synchronise the stream, and cudarc's
//! `htod_sync_copy_into` synchronises it after the copy too). On `Cuda` each upload goes
//! through a ring of pinned host buffers instead (`PinnedRing`): the values are copied into
//! the next buffer, whose earlier copy is waited for alone, and the copy to the device is
//! enqueued on the stream the step's kernels run on, so the host prepares the next step while
//! the device runs this one. On `Cpu` an upload is a copy
//! ([`KerasDevice::try_upload_into`](crate::device::KerasDevice::try_upload_into)).

#[cfg(feature = "cuda")]
mod pinned_ring;

#[cfg(feature = "cuda")]
pub use pinned_ring::PinnedRing;
