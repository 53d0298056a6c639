//! The launch of `columns.cu`'s `keras_column_update`, planned for `cuda_kernel.rs` and for the
//! kernel's CPU emulation alike.

use super::{ColumnForm, ColumnSums};
use crate::kernels::{Launch, MeanBatch};

/// The kernel.
pub(crate) const UPDATE: &str = "keras_column_update";

/// The block size `columns.cu`'s reduction is written for (`KERAS_COLUMN_THREADS`).
const THREADS: u32 = 256;

/// `columns.cu`'s `ColumnArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct ColumnArgs {
    rows: usize,
    cols: usize,
    slots: usize,
    kind: u32,
    has_threshold: u32,
    threshold: f32,
}

// SAFETY: `ColumnArgs` is `repr(C)` plain data with the layout of `columns.cu`'s `ColumnArgs`
// (three 64-bit sizes, two unsigned ints, a float), passed by value.
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for ColumnArgs {}
// SAFETY: as above.
#[cfg(all(test, feature = "cuda-emulation"))]
unsafe impl crate::kernels::emulation::Param for ColumnArgs {}

/// `keras_column_update`'s parameters: the arguments, then the addresses of the predictions,
/// the labels, the weights (0 for none) and the sums (the state's address at the form's
/// offset).
pub(crate) type ColumnParams = (ColumnArgs, u64, u64, u64, u64);

/// The launch that adds one batch to the sums at `state[form.offset..]` (`state`: its address
/// and length); `len` and `address` tell a batch buffer's. `Err(())` when a buffer is shorter
/// than the batch says, the form does not fit the batch's columns or its slots do not fit in a
/// `u32`; `Ok(None)` for a form without slots (nothing to launch). One block of [`THREADS`] per
/// slot, as the kernel's reduction requires.
#[allow(clippy::result_unit_err)]
pub(crate) fn plan<B: ?Sized>(
    form: &ColumnForm,
    batch: &MeanBatch<'_, B>,
    len: impl Fn(&B) -> usize,
    address: impl Fn(&B) -> u64,
    state: (u64, usize),
) -> Result<Option<(Launch, ColumnParams)>, ()> {
    let (rows, cols) = (batch.rows, batch.cols);
    let fits = len(batch.y_pred) >= rows * cols
        && len(batch.y_true) >= rows * cols
        && !matches!(batch.weights, Some(w) if len(w) < rows)
        && form.fits(cols)
        && state.1 >= form.offset + form.len();
    if !fits {
        return Err(());
    }
    if form.is_empty() {
        return Ok(None);
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
        address(batch.y_pred),
        address(batch.y_true),
        batch.weights.map_or(0, &address),
        state.0 + (form.offset * std::mem::size_of::<f32>()) as u64,
    );
    let shape = Launch {
        grid: u32::try_from(form.slots).map_err(|_| ())?,
        grid_y: 1,
        block: THREADS,
        shared_bytes: 0,
    };
    Ok(Some((shape, params)))
}
