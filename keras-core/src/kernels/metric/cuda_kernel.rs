//! The mean metric update on `Cuda`: `metric.cu`'s `keras_mean_update`, one block launched on the
//! stream dfdx launches its own kernels on, so it reads the model's output after the forward
//! pass wrote it, with no host synchronisation.

use cudarc::driver::{DevicePtr, DeviceSlice, LaunchAsync};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::launch::{plan, MEAN_UPDATE};
use super::{MeanBatch, RowMetric};
use crate::kernels::cuda_function::{function, invalid_value};

/// `metric.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/metric.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_metric";

type Buffer = <Cuda as Storage<f32>>::Vec;

/// Adds one batch of `form`'s rows to the running `[total, count]` at `state[offset..offset + 2]`.
pub(crate) fn launch_mean_update(
    dev: &Cuda,
    form: RowMetric,
    batch: &MeanBatch<'_, Buffer>,
    state: &mut Buffer,
    offset: usize,
) -> Result<(), CudaError> {
    let function = function(dev, MODULE, PTX, &[MEAN_UPDATE], MEAN_UPDATE)?;
    let state = (*state.device_ptr(), state.len());
    let (config, params) = plan(form, batch, |b| b.len(), |b| *b.device_ptr(), state, offset)
        .ok_or_else(invalid_value)?;
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred`, `rows * label_width` of
    // `y_true` (forms that read labels) and `rows` of `weights` when given, and adds to two
    // floats of `state` at `offset`: all live buffers of this device, long enough (checked by
    // `plan`), `state` borrowed mutably for the call. One block, as the kernel's reduction
    // requires; parameters as `keras_mean_update`'s.
    unsafe { function.launch(config.into(), params) }?;
    Ok(())
}
