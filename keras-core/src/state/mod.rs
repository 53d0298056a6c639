//! Values: what a model and a run hold, apart from the behaviour that changes them.
//!
//! The model's variables as flat buffers ([`FlatParams`]), a hook's logs ([`Logs`]), the
//! epochs logged so far ([`History`]), a running mean ([`MeanState`]), the position in the data
//! ([`DataPosition`]), the point a run resumes at ([`ResumePoint`]) and where a step's time
//! went ([`StepProfile`]). This module sits below
//! the trainer, the callbacks, the optimizers, the data pipeline and the file formats
//! ([`persist`](crate::persist)), which all read and write these values; it imports none of
//! them (only the kernels, for the arithmetic a running mean shares with the device).

mod data_position;
mod float_hex;
mod history;
mod hyper_parameters;
mod logs;
mod mean_state;
mod params;
mod resume_point;
mod step_profile;

pub use data_position::DataPosition;
pub(crate) use float_hex::{floats_from_hex, floats_to_hex};
pub use history::History;
pub use hyper_parameters::HyperParameters;
pub use logs::Logs;
pub use mean_state::MeanState;
pub use params::{FlatParams, VarInfo};
pub use resume_point::{DataSignature, ResumePoint};
pub use step_profile::{Phase, PhaseTime, StepProfile};
