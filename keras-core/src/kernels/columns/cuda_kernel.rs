//! The column sums on `Cuda`: `columns.cu`'s `keras_column_update`, one block per slot, launched
//! on the stream dfdx launches its own kernels on, so it reads the model's output after the
//! forward pass wrote it, with no host synchronisation.

use cudarc::driver::{DevicePtr, DeviceRepr, DeviceSlice, LaunchAsync, LaunchConfig};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::{ColumnForm, ColumnSums};
use crate::kernels::cuda_function::{function, invalid_value as invalid};
use crate::kernels::MeanBatch;

/// `columns.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/columns.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_columns";

/// The kernel.
const UPDATE: &str = "keras_column_update";

/// The block size `columns.cu`'s reduction is written for (`KERAS_COLUMN_THREADS`).
const THREADS: u32 = 256;

type Buffer = <Cuda as Storage<f32>>::Vec;

/// `columns.cu`'s `ColumnArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct ColumnArgs {
    rows: usize,
    cols: usize,
    slots: usize,
    kind: u32,
    has_threshold: u32,
    threshold: f32,
}

// SAFETY: `ColumnArgs` is `repr(C)` plain data with the layout of `columns.cu`'s `ColumnArgs`
// (three 64-bit sizes, two unsigned ints, a float), passed by value.
unsafe impl DeviceRepr for ColumnArgs {}

/// Adds one batch to the sums at `state[form.offset..]`.
pub(crate) fn launch_column_update(
    dev: &Cuda,
    form: &ColumnForm,
    batch: &MeanBatch<'_, Buffer>,
    state: &mut Buffer,
) -> Result<(), CudaError> {
    let function = function(dev, MODULE, PTX, &[UPDATE], UPDATE)?;
    let (rows, cols) = (batch.rows, batch.cols);
    let fits = batch.y_pred.len() >= rows * cols
        && batch.y_true.len() >= rows * cols
        && !matches!(batch.weights, Some(w) if w.len() < rows)
        && form.fits(cols)
        && state.len() >= form.offset + form.len();
    if !fits {
        return Err(invalid());
    }
    if form.is_empty() {
        return Ok(());
    }
    let (kind, threshold) = match form.sums {
        ColumnSums::FScore { threshold } => (0u32, threshold),
        ColumnSums::R2 => (1, None),
    };
    let args = ColumnArgs {
        rows,
        cols,
        slots: form.slots,
        kind,
        has_threshold: u32::from(threshold.is_some()),
        threshold: threshold.unwrap_or(0.0),
    };
    let params = (
        args,
        *batch.y_pred.device_ptr(),
        *batch.y_true.device_ptr(),
        batch.weights.map_or(0, |w| *w.device_ptr()),
        *state.device_ptr() + (form.offset * std::mem::size_of::<f32>()) as u64,
    );
    let config = LaunchConfig {
        grid_dim: (u32::try_from(form.slots).map_err(|_| invalid())?, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred` and `y_true` and `rows` of
    // `weights` when given, and adds to `form.len()` floats of `state` from `offset`: all live
    // buffers of this device, long enough (checked above), `state` borrowed mutably for the
    // call. Blocks of `THREADS`, as the kernel's reduction requires; parameters as
    // `keras_column_update`'s.
    unsafe { function.launch(config, params) }?;
    Ok(())
}
