//! The confusion counts' update on `Cuda`: `confusion.cu`'s `keras_confusion_update`, one block
//! per threshold and label column, launched on the stream dfdx launches its own kernels on, so
//! it reads the model's output after the forward pass wrote it, with no host synchronisation.

use cudarc::driver::{DevicePtr, DeviceSlice, LaunchAsync};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::launch::{plan, UPDATE};
use super::{ConfusionConsts, ConfusionForm};
use crate::kernels::cuda_function::{function, invalid_value as invalid};
use crate::kernels::MeanBatch;

/// `confusion.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/confusion.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_confusion";

type Buffer = <Cuda as Storage<f32>>::Vec;

/// Adds one batch to the counts at `state[form.offset..]`.
pub(crate) fn launch_confusion_update(
    dev: &Cuda,
    form: &ConfusionForm<'_>,
    consts: &ConfusionConsts<Buffer>,
    batch: &MeanBatch<'_, Buffer>,
    state: &mut Buffer,
) -> Result<(), CudaError> {
    let function = function(dev, MODULE, PTX, &[UPDATE], UPDATE)?;
    let state = (*state.device_ptr(), state.len());
    let Some((shape, params)) = plan(form, consts, batch, |b| b.len(), |b| *b.device_ptr(), state)
        .map_err(|()| invalid())?
    else {
        return Ok(());
    };
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred` and `y_true`, `rows` of
    // `weights` and `cols` of the label weights when given, the thresholds (one per block row),
    // and adds to `4 * thresholds * labels` floats of `state` from `offset`: all live buffers of
    // this device, long enough (checked by `plan`), `state` borrowed mutably for the call.
    // Blocks of `THREADS`, as the kernel's reduction requires, one per threshold (x) and label
    // column (y); parameters as `keras_confusion_update`'s.
    unsafe { function.launch(shape.into(), params) }?;
    Ok(())
}
