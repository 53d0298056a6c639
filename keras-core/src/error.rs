//! The one error type of keras-core.
//!
//! Every fallible public entry returns [`Result`]. Messages name the argument that was wrong and
//! say how to fix it, as Keras's own errors do.

use std::path::PathBuf;

/// Everything that can go wrong in keras-core.
///
/// The enum is `#[non_exhaustive]`: match on the variants you handle and keep a `_` arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A constructor or `fit`/`evaluate` argument is out of its valid range (a negative learning
    /// rate, `batch_size` 0, a threshold outside `[0, 1]`, two clipping options at once, ...).
    #[error("invalid argument `{name}`: {reason}")]
    InvalidArgument {
        /// The argument's name, as in Keras.
        name: &'static str,
        /// What is wrong and how to fix it.
        reason: String,
    },
    /// Two inputs that must agree in length do not (x and y, x and `sample_weight`, ...).
    #[error("length mismatch: `{left}` has {left_len} samples but `{right}` has {right_len}; give both the same number of samples")]
    LengthMismatch {
        /// The first argument.
        left: &'static str,
        /// Its number of samples.
        left_len: usize,
        /// The second argument.
        right: &'static str,
        /// Its number of samples.
        right_len: usize,
    },
    /// A flat buffer does not hold a whole number of samples of the expected shape.
    #[error("shape mismatch in `{name}`: expected {expected}, got {got}")]
    ShapeMismatch {
        /// The argument's name.
        name: &'static str,
        /// The expected shape or element count, in words.
        expected: String,
        /// What was given.
        got: String,
    },
    /// The data holds no sample at all (or a split left none for training).
    #[error("`{name}` is empty: {reason}")]
    EmptyData {
        /// The argument's name.
        name: &'static str,
        /// Why, and what to give instead.
        reason: String,
    },
    /// A sparse label is not a valid class id for a model with `num_classes` outputs.
    #[error("label {label} at sample {index} is not a class id in 0..{num_classes}; labels must be integers below the model's output width")]
    ClassOutOfRange {
        /// The offending label value.
        label: f32,
        /// The sample it belongs to.
        index: usize,
        /// The number of classes the model predicts.
        num_classes: usize,
    },
    /// A CSV file could not be parsed.
    #[error("CSV error in {path} at row {row}, column {column}: {reason}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based row number in the file (the header is row 1 when present).
        row: usize,
        /// 1-based column number.
        column: usize,
        /// What is wrong.
        reason: String,
    },
    /// A `.npy`/`.npz` file is malformed or holds the wrong dtype or shape.
    #[error("NumPy file error in {path}: {reason}")]
    Npy {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A feature, label or weight is NaN or infinite where the data enters `fit` (its
    /// `check_finite` argument, on by default): a model trained on it would silently hold NaN
    /// weights.
    #[error("`{name}` of sample {index} holds {value} at position {position}; clean the data, or pass check_finite(false) to fit to train on it as it is")]
    NonFiniteInput {
        /// Which input: `x` (features) or `y` (labels).
        name: &'static str,
        /// The sample's index in the dataset.
        index: usize,
        /// The value's position within the sample's features (or label).
        position: usize,
        /// The value.
        value: f32,
    },
    /// A checkpoint or backup could not be read, is corrupt, or belongs to another model.
    #[error("checkpoint error in {path}: {reason}")]
    Checkpoint {
        /// The file or directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A Keras file (`.weights.h5`, `.keras`) could not be read or written, is corrupt, or
    /// belongs to another architecture: the reason names the layer path (`layers/dense_1`), the
    /// variable and both shapes where they differ. Nothing was loaded into the model.
    #[error("Keras file error in {path}: {reason}")]
    KerasFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A parameter received no gradient in a training step (it is not used by the forward pass).
    #[error("parameter `{name}` received no gradient; every parameter must take part in the forward pass")]
    MissingGradient {
        /// The parameter's path in the model (e.g. `hidden.kernel`).
        name: String,
    },
    /// A callback monitors a key that the logs do not hold.
    #[error("monitor key `{key}` is not in the logs; available keys: {available}")]
    UnknownMonitorKey {
        /// The requested key.
        key: String,
        /// The keys the logs hold, comma separated.
        available: String,
    },
    /// A file path template names a field the logs do not hold, or is malformed.
    #[error("bad file path template `{template}`: {reason}")]
    BadTemplate {
        /// The template.
        template: String,
        /// What is wrong.
        reason: String,
    },
    /// A training step produced a non-finite loss and the caller asked for an error.
    #[error("non-finite loss {value} at batch {batch}")]
    NonFiniteLoss {
        /// The loss value.
        value: f32,
        /// The batch index in the epoch.
        batch: usize,
    },
    /// A training epoch logged only finite losses but left a weight NaN or infinite (an update
    /// that overflowed after the loss was computed): `fit` stops rather than return a model
    /// that is silently broken.
    #[error("weight `{name}` became {value} in epoch {epoch} while every logged loss was finite; lower the learning rate or clip the gradients (clipnorm)")]
    NonFiniteWeights {
        /// The variable's field path.
        name: String,
        /// The epoch.
        epoch: usize,
        /// The first non-finite value.
        value: f32,
    },
    /// The device (CPU or CUDA) ran out of memory. A training step that fails so has not
    /// changed the model or the optimizer (their updates come after every allocation of the
    /// step).
    #[error("the device ran out of memory allocating {what} ({detail}); the model and the optimizer are as before the step: use a smaller batch_size or model")]
    OutOfMemory {
        /// What was being allocated (`"the batch"`, `"the forward pass"`, ...).
        what: &'static str,
        /// The device's own error.
        detail: String,
    },
    /// The processes of a data-parallel `fit` (see
    /// `DataParallel`, feature `mpi`) disagree at start: their models
    /// (parameter count or shapes), their data (sample counts) or their `fit` arguments
    /// differ, so they could not train one model together. Every process reports it, before
    /// any step.
    #[error("process {rank} of the data-parallel job disagrees with process 0 on {what}: process 0 has {expected}, process {rank} has {got}; every process must build the same model and load the same data")]
    DistributionMismatch {
        /// What differs (`"the number of parameters"`, `"the training samples"`, ...).
        what: &'static str,
        /// The first process that differs from process 0.
        rank: usize,
        /// Process 0's value.
        expected: String,
        /// That process's value.
        got: String,
    },
    /// The distribution's communication layer (MPI) could not start or failed: MPI was
    /// already initialized by something else, or a collective operation reported an error.
    #[error("distribution error: {0}")]
    Distribution(String),
    /// The device (CPU or CUDA) reported an error.
    #[error("device error: {0}")]
    Device(String),
    /// An I/O error, with the path it happened on.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

/// `Result` with keras-core's [`Error`].
pub type Result<T, Er = Error> = std::result::Result<T, Er>;

impl Error {
    /// Shorthand for [`Error::InvalidArgument`].
    pub fn invalid(name: &'static str, reason: impl Into<String>) -> Self {
        Error::InvalidArgument {
            name,
            reason: reason.into(),
        }
    }

    /// Wraps a device error (dfdx's `D::Err`).
    pub fn device(err: impl std::fmt::Debug) -> Self {
        Error::Device(format!("{err:?}"))
    }

    /// Wraps an error of device `D` that happened while allocating or computing `what`:
    /// [`Error::OutOfMemory`] when the device says it is out of memory
    /// ([`DeviceError::is_out_of_memory`]), else [`Error::Device`].
    ///
    /// # Examples
    /// ```
    /// use keras_core::dfdx::tensor::{Cpu, CpuError};
    /// use keras_core::Error;
    /// let oom = Error::on_device::<Cpu>("the batch")(CpuError::OutOfMemory);
    /// assert!(matches!(oom, Error::OutOfMemory { what: "the batch", .. }));
    /// ```
    pub fn on_device<D: dfdx::tensor::HasErr<Err: DeviceError>>(
        what: &'static str,
    ) -> impl Fn(D::Err) -> Error {
        move |err| {
            if err.is_out_of_memory() {
                Error::OutOfMemory {
                    what,
                    detail: format!("{err:?}"),
                }
            } else {
                Error::device(err)
            }
        }
    }

    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

/// A device's own error (dfdx's `D::Err`) as [`Error::on_device`] reads it: whether it means
/// the device ran out of memory. Implemented beside each device's
/// [`KerasDevice`](crate::device::KerasDevice) impl, so that this module names no device.
pub trait DeviceError: std::fmt::Debug {
    /// Whether the error says the device ran out of memory.
    fn is_out_of_memory(&self) -> bool;
}
