//! The launch of `confusion.cu`'s `keras_confusion_update`, planned for `cuda_kernel.rs` and for
//! the kernel's CPU emulation alike.
//!
//! The kernel's grid has two dimensions: a block per threshold along x, per label column along y.

use super::{Comparison, ConfusionConsts, ConfusionForm};
use crate::kernels::{Launch, MeanBatch};

/// The kernel.
pub(crate) const UPDATE: &str = "keras_confusion_update";

/// The block size `confusion.cu`'s reduction is written for (`KERAS_CONFUSION_THREADS`).
const THREADS: u32 = 256;

/// `confusion.cu`'s `ConfusionArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConfusionArgs {
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
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for ConfusionArgs {}
// SAFETY: as above.
#[cfg(all(test, feature = "cuda-emulation"))]
unsafe impl crate::kernels::emulation::Param for ConfusionArgs {}

/// `keras_confusion_update`'s parameters: the arguments, then the addresses of the thresholds,
/// the predictions, the labels, the weights (0 for none), the label weights (0 for none) and
/// the counts (the state's address at the form's offset).
pub(crate) type ConfusionParams = (ConfusionArgs, u64, u64, u64, u64, u64, u64);

/// The launch that adds one batch to the counts at `state[form.offset..]` (`state`: its address
/// and length); `len` and `address` tell a buffer's (the batch's and the constants'). `Err(())`
/// when a buffer is shorter than the batch says, the constants do not match the form, the form
/// does not fit the batch's columns or the grid does not fit in `u32`s; `Ok(None)` for a form
/// without counts (nothing to launch). A block of [`THREADS`] per threshold and label column,
/// as the kernel's reduction requires.
#[allow(clippy::result_unit_err)]
pub(crate) fn plan<B>(
    form: &ConfusionForm<'_>,
    consts: &ConfusionConsts<B>,
    batch: &MeanBatch<'_, B>,
    len: impl Fn(&B) -> usize,
    address: impl Fn(&B) -> u64,
    state: (u64, usize),
) -> Result<Option<(Launch, ConfusionParams)>, ()> {
    let (rows, cols) = (batch.rows, batch.cols);
    let n = form.len();
    let fits = len(batch.y_pred) >= rows * cols
        && len(batch.y_true) >= rows * cols
        && !matches!(batch.weights, Some(w) if len(w) < rows)
        && len(&consts.thresholds) == form.thresholds.len()
        && !matches!(&consts.label_weights, Some(lw) if len(lw) < cols)
        && form.class_id.is_none_or(|id| id < cols)
        && form.top_k.is_none_or(|k| k <= cols)
        && form.labels == form.labels_for(cols)
        && state.1 >= form.offset + 4 * n;
    if !fits {
        return Err(());
    }
    if n == 0 {
        return Ok(None);
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
        address(&consts.thresholds),
        address(batch.y_pred),
        address(batch.y_true),
        batch.weights.map_or(0, &address),
        consts.label_weights.as_ref().map_or(0, &address),
        state.0 + (form.offset * std::mem::size_of::<f32>()) as u64,
    );
    let shape = Launch {
        grid: u32::try_from(form.thresholds.len()).map_err(|_| ())?,
        grid_y: u32::try_from(form.labels).map_err(|_| ())?,
        block: THREADS,
        shared_bytes: 0,
    };
    Ok(Some((shape, params)))
}
