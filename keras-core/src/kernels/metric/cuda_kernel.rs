//! The mean metric update on `Cuda`: `metric.cu`'s `keras_mean_update`, one block launched on the
//! stream dfdx launches its own kernels on, so it reads the model's output after the forward
//! pass wrote it, with no host synchronisation.

use cudarc::driver::{DevicePtr, DeviceSlice, LaunchAsync, LaunchConfig};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::{MeanBatch, RowMetric};
use crate::kernels::cuda_function::{function, invalid_value};

/// `metric.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/metric.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_metric";

/// The kernel.
const MEAN_UPDATE: &str = "keras_mean_update";

/// The block size `metric.cu`'s reduction is written for (`KERAS_MEAN_THREADS`).
const THREADS: u32 = 256;

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
    if !batch.fits(form, |b| b.len(), state.len(), offset) {
        return Err(invalid_value());
    }
    let (code, threshold) = form.code();
    let params = (
        batch.rows,
        batch.cols,
        code,
        threshold,
        batch.unit_weight,
        *batch.y_pred.device_ptr(),
        *batch.y_true.device_ptr(),
        batch.weights.map_or(0, |w| *w.device_ptr()),
        *state.device_ptr() + (offset * std::mem::size_of::<f32>()) as u64,
    );
    let config = LaunchConfig {
        grid_dim: (1, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred`, `rows * label_width` of
    // `y_true` (forms that read labels) and `rows` of `weights` when given, and adds to two
    // floats of `state` at `offset`: all live buffers of this device, long enough (checked
    // above), `state` borrowed mutably for the call. One block of `THREADS`, as the kernel's
    // reduction requires; parameters as `keras_mean_update`'s.
    unsafe { function.launch(config, params) }?;
    Ok(())
}
