//! The launch of `iou.cu`'s `keras_iou_update`, planned for `cuda_kernel.rs` and for the
//! kernel's CPU emulation alike.

use super::{ClassIds, IouForm};
use crate::kernels::{Launch, MeanBatch};

/// The kernel.
pub(crate) const UPDATE: &str = "keras_iou_update";

/// Threads per block.
const THREADS: u32 = 256;

/// The most blocks a launch takes (each then loops over its share of the elements).
const MAX_BLOCKS: usize = 128;

/// The matrices `iou.cu` counts in a block's shared memory (`KERAS_IOU_SHARED_CELLS`).
const SHARED_CELLS: usize = 4096;

/// `iou.cu`'s `IouArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct IouArgs {
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
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for IouArgs {}
// SAFETY: as above.
#[cfg(all(test, feature = "cuda-emulation"))]
unsafe impl crate::kernels::emulation::Param for IouArgs {}

/// `keras_iou_update`'s parameters: the arguments, then the addresses of the predictions, the
/// labels, the weights (0 for none) and the counts.
pub(crate) type IouParams = (IouArgs, u64, u64, u64, u64);

/// The launch that adds one batch to the counts (`counts`: their address and length, the
/// counts then the check words); `len` and `address` tell a batch buffer's. `Err(())` when a
/// buffer is shorter than the batch says or the form does not fit; `Ok(None)` for an empty
/// batch (nothing to launch).
#[allow(clippy::result_unit_err)]
pub(crate) fn plan<B: ?Sized>(
    form: &IouForm,
    batch: &MeanBatch<'_, B>,
    len: impl Fn(&B) -> usize,
    address: impl Fn(&B) -> u64,
    counts: (u64, usize),
) -> Result<Option<(Launch, IouParams)>, ()> {
    let (rows, cols) = (batch.rows, batch.cols);
    let fits = len(batch.y_pred) >= rows * cols
        && len(batch.y_true) >= form.labels(rows, cols)
        && !matches!(batch.weights, Some(w) if len(w) < rows)
        && form.fits(cols)
        && counts.1 >= form.device_len();
    if !fits {
        return Err(());
    }
    let n = form.elements(rows, cols);
    if n == 0 {
        return Ok(None);
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
        address(batch.y_pred),
        address(batch.y_true),
        batch.weights.map_or(0, address),
        counts.0,
    );
    let blocks = n.div_ceil(THREADS as usize).clamp(1, MAX_BLOCKS);
    let cells = form.cells();
    let shape = Launch {
        grid: blocks as u32,
        grid_y: 1,
        block: THREADS,
        shared_bytes: if cells <= SHARED_CELLS {
            (cells * std::mem::size_of::<u64>()) as u32
        } else {
            0
        },
    };
    Ok(Some((shape, params)))
}
