//! The IoU counts' update on `Cuda`: `iou.cu`'s `keras_iou_update`, a grid over the batch's
//! elements adding with 64-bit integer atomics, launched on the stream dfdx launches its own
//! kernels on, so it reads the model's output after the forward pass wrote it, with no host
//! synchronisation.

use cudarc::driver::{CudaSlice, DevicePtr, DeviceRepr, DeviceSlice, LaunchAsync, LaunchConfig};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::{ClassIds, IouForm};
use crate::kernels::cuda_function::{function, invalid_value as invalid};
use crate::kernels::MeanBatch;

/// `iou.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/iou.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_iou";

/// The kernel.
const UPDATE: &str = "keras_iou_update";

/// Threads per block.
const THREADS: u32 = 256;

/// The most blocks a launch takes (each then loops over its share of the elements).
const MAX_BLOCKS: usize = 128;

/// The matrices `iou.cu` counts in a block's shared memory (`KERAS_IOU_SHARED_CELLS`).
const SHARED_CELLS: usize = 4096;

type Buffer = <Cuda as Storage<f32>>::Vec;

/// `iou.cu`'s `IouArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct IouArgs {
    rows: usize,
    cols: usize,
    classes: usize,
    ignore_class: i64,
    has_ignore: u32,
    truth: u32,
    pred: u32,
    threshold: f32,
}

// SAFETY: `IouArgs` is `repr(C)` plain data with the layout of `iou.cu`'s `IouArgs` (three
// 64-bit sizes, a 64-bit integer, three unsigned ints, a float), passed by value.
unsafe impl DeviceRepr for IouArgs {}

/// Adds one batch to `counts` (the counts, then the check words).
pub(crate) fn launch_iou_update(
    dev: &Cuda,
    form: &IouForm,
    batch: &MeanBatch<'_, Buffer>,
    counts: &mut CudaSlice<i64>,
) -> Result<(), CudaError> {
    let function = function(dev, MODULE, PTX, &[UPDATE], UPDATE)?;
    let (rows, cols) = (batch.rows, batch.cols);
    let fits = batch.y_pred.len() >= rows * cols
        && batch.y_true.len() >= form.labels(rows, cols)
        && !matches!(batch.weights, Some(w) if w.len() < rows)
        && form.fits(cols)
        && counts.len() >= form.device_len();
    if !fits {
        return Err(invalid());
    }
    let n = form.elements(rows, cols);
    if n == 0 {
        return Ok(());
    }
    let (pred, threshold) = match form.pred {
        ClassIds::Values => (0u32, 0.0),
        ClassIds::ArgMax => (1, 0.0),
        ClassIds::Threshold(t) => (2, t),
    };
    let args = IouArgs {
        rows,
        cols,
        classes: form.classes,
        ignore_class: form.ignore_class.unwrap_or(0),
        has_ignore: u32::from(form.ignore_class.is_some()),
        truth: u32::from(form.truth == ClassIds::ArgMax),
        pred,
        threshold,
    };
    let params = (
        args,
        *batch.y_pred.device_ptr(),
        *batch.y_true.device_ptr(),
        batch.weights.map_or(0, |w| *w.device_ptr()),
        *counts.device_ptr(),
    );
    let blocks = n.div_ceil(THREADS as usize).clamp(1, MAX_BLOCKS);
    let cells = form.cells();
    let config = LaunchConfig {
        grid_dim: (blocks as u32, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: if cells <= SHARED_CELLS {
            (cells * std::mem::size_of::<u64>()) as u32
        } else {
            0
        },
    };
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred`, `form.labels(rows, cols)` of
    // `y_true`, `rows` of `weights` when given, and adds to the `classes²` counts and 3 check
    // words of `counts`: all live buffers of this device, long enough (checked above), `counts`
    // borrowed mutably for the call. Shared memory as `iou.cu` takes it (a histogram of
    // `classes²` 64-bit counts when it fits in `SHARED_CELLS`); parameters as
    // `keras_iou_update`'s.
    unsafe { function.launch(config, params) }?;
    Ok(())
}
