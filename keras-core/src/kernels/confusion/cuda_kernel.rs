//! The confusion counts' update on `Cuda`: `confusion.cu`'s `keras_confusion_update`, one block
//! per threshold and label column, launched on the stream dfdx launches its own kernels on, so
//! it reads the model's output after the forward pass wrote it, with no host synchronisation.

use cudarc::driver::{DevicePtr, DeviceRepr, DeviceSlice, LaunchAsync, LaunchConfig};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::{Comparison, ConfusionConsts, ConfusionForm};
use crate::kernels::cuda_function::{function, invalid_value as invalid};
use crate::kernels::MeanBatch;

/// `confusion.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/confusion.ptx"));

/// The module name the kernel is loaded under.
const MODULE: &str = "keras_confusion";

/// The kernel.
const UPDATE: &str = "keras_confusion_update";

/// The block size `confusion.cu`'s reduction is written for (`KERAS_CONFUSION_THREADS`).
const THREADS: u32 = 256;

type Buffer = <Cuda as Storage<f32>>::Vec;

/// `confusion.cu`'s `ConfusionArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct ConfusionArgs {
    rows: usize,
    cols: usize,
    n_thresholds: usize,
    labels: usize,
    class_id: i64,
    top_k: usize,
    bucketed: u32,
    with_epsilon: u32,
    multi_label: u32,
    from_logits: u32,
}

// SAFETY: `ConfusionArgs` is `repr(C)` plain data with the layout of `confusion.cu`'s
// `ConfusionArgs` (four 64-bit sizes, a 64-bit integer, a 64-bit size, four unsigned ints),
// passed by value.
unsafe impl DeviceRepr for ConfusionArgs {}

/// Adds one batch to the counts at `state[form.offset..]`.
pub(crate) fn launch_confusion_update(
    dev: &Cuda,
    form: &ConfusionForm<'_>,
    consts: &ConfusionConsts<Buffer>,
    batch: &MeanBatch<'_, Buffer>,
    state: &mut Buffer,
) -> Result<(), CudaError> {
    let function = function(dev, MODULE, PTX, &[UPDATE], UPDATE)?;
    let (rows, cols) = (batch.rows, batch.cols);
    let n = form.len();
    let fits = batch.y_pred.len() >= rows * cols
        && batch.y_true.len() >= rows * cols
        && !matches!(batch.weights, Some(w) if w.len() < rows)
        && consts.thresholds.len() == form.thresholds.len()
        && !matches!(&consts.label_weights, Some(lw) if lw.len() < cols)
        && form.class_id.is_none_or(|id| id < cols)
        && form.top_k.is_none_or(|k| k <= cols)
        && form.labels == form.labels_for(cols)
        && state.len() >= form.offset + 4 * n;
    if !fits || n == 0 {
        return if fits { Ok(()) } else { Err(invalid()) };
    }
    let (bucketed, with_epsilon) = match form.comparison {
        Comparison::Above => (0u32, 0u32),
        Comparison::Buckets { with_epsilon } => (1, u32::from(with_epsilon)),
    };
    let args = ConfusionArgs {
        rows,
        cols,
        n_thresholds: form.thresholds.len(),
        labels: form.labels,
        class_id: form.class_id.map_or(-1, |id| id as i64),
        top_k: form.top_k.unwrap_or(0),
        bucketed,
        with_epsilon,
        multi_label: u32::from(form.multi_label),
        from_logits: u32::from(form.from_logits),
    };
    let params = (
        args,
        *consts.thresholds.device_ptr(),
        *batch.y_pred.device_ptr(),
        *batch.y_true.device_ptr(),
        batch.weights.map_or(0, |w| *w.device_ptr()),
        consts
            .label_weights
            .as_ref()
            .map_or(0, |lw| *lw.device_ptr()),
        *state.device_ptr() + (form.offset * std::mem::size_of::<f32>()) as u64,
    );
    let grid = (
        u32::try_from(form.thresholds.len()).map_err(|_| invalid())?,
        u32::try_from(form.labels).map_err(|_| invalid())?,
        1,
    );
    let config = LaunchConfig {
        grid_dim: grid,
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    };
    // SAFETY: the kernel reads `rows * cols` floats of `y_pred` and `y_true`, `rows` of
    // `weights` and `cols` of the label weights when given, the thresholds (one per block row),
    // and adds to `4 * thresholds * labels` floats of `state` from `offset`: all live buffers of
    // this device, long enough (checked above), `state` borrowed mutably for the call. Blocks of
    // `THREADS`, as the kernel's reduction requires; parameters as `keras_confusion_update`'s.
    unsafe { function.launch(config, params) }?;
    Ok(())
}
