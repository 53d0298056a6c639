//! The column sums on `Cuda`: `columns.cu`'s `keras_column_update`, one block per slot, launched
//! on the stream dfdx launches its own kernels on, so it reads the model's output after the
//! forward pass wrote it, with no host synchronisation.

use cudarc::driver::{DevicePtr, DeviceSlice, LaunchAsync};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::launch::{plan, UPDATE};
use super::ColumnForm;
use crate::kernels::cuda_function::{function, invalid_value as invalid};
use crate::kernels::MeanBatch;

/// `columns.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/columns.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_columns";

type Buffer = <Cuda as Storage<f32>>::Vec;

/// Adds one batch to the sums at `state[form.offset..]`.
pub(crate) fn launch_column_update(
    dev: &Cuda,
    form: &ColumnForm,
    batch: &MeanBatch<'_, Buffer>,
    state: &mut Buffer,
) -> Result<(), CudaError> {
    let function = function(dev, MODULE, PTX, &[UPDATE], UPDATE)?;
    let state = (*state.device_ptr(), state.len());
    let Some((shape, params)) =
        plan(form, batch, |b| b.len(), |b| *b.device_ptr(), state).map_err(|()| invalid())?
    else {
        return Ok(());
    };
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred` and `y_true` and `rows` of
    // `weights` when given, and adds to `form.len()` floats of `state` from `offset`: all live
    // buffers of this device, long enough (checked by `plan`), `state` borrowed mutably for the
    // call. One block of `THREADS` per slot, as the kernel's reduction requires; parameters as
    // `keras_column_update`'s.
    unsafe { function.launch(shape.into(), params) }?;
    Ok(())
}
