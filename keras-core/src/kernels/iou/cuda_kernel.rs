//! The IoU counts' update on `Cuda`: `iou.cu`'s `keras_iou_update`, a grid over the batch's
//! elements adding with 64-bit integer atomics, launched on the stream dfdx launches its own
//! kernels on, so it reads the model's output after the forward pass wrote it, with no host
//! synchronisation.

use cudarc::driver::{CudaSlice, DevicePtr, DeviceSlice, LaunchAsync};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::launch::{plan, UPDATE};
use super::IouForm;
use crate::kernels::cuda_function::{function, invalid_value as invalid};
use crate::kernels::MeanBatch;

/// `iou.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/iou.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_iou";

type Buffer = <Cuda as Storage<f32>>::Vec;

/// Adds one batch to `counts` (the counts, then the check words).
pub(crate) fn launch_iou_update(
    dev: &Cuda,
    form: &IouForm,
    batch: &MeanBatch<'_, Buffer>,
    counts: &mut CudaSlice<i64>,
) -> Result<(), CudaError> {
    let function = function(dev, MODULE, PTX, &[UPDATE], UPDATE)?;
    let counts = (*counts.device_ptr(), counts.len());
    let Some((shape, params)) =
        plan(form, batch, |b| b.len(), |b| *b.device_ptr(), counts).map_err(|()| invalid())?
    else {
        return Ok(());
    };
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred`, `form.labels(rows, cols)` of
    // `y_true`, `rows` of `weights` when given, and adds to the `classes²` counts and 3 check
    // words of `counts`: all live buffers of this device, long enough (checked by `plan`),
    // `counts` borrowed mutably for the call. Shared memory as `iou.cu` takes it (a histogram
    // of `classes²` 64-bit counts when it fits); parameters as `keras_iou_update`'s.
    unsafe { function.launch(shape.into(), params) }?;
    Ok(())
}
