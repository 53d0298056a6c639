//! Marks on a device's timeline, for a step profile
//! ([`Trainer::set_step_profile`](crate::Trainer::set_step_profile)): each mark records the
//! moment the device reaches it, after everything queued before. On `Cpu` that is the host's
//! clock (`cpu_marks.rs`); on `Cuda` a CUDA event recorded on the stream dfdx launches on
//! (`event_marks.rs`), so that the time between two marks is the device's time for the work
//! queued between them, whatever the host did meanwhile. Reading the intervals waits for the
//! last mark.

mod cpu_marks;
#[cfg(feature = "cuda")]
mod event_marks;

pub use cpu_marks::CpuMarks;
#[cfg(feature = "cuda")]
pub use event_marks::EventMarks;
