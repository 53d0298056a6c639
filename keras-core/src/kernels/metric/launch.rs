//! The launch of `metric.cu`'s `keras_mean_update`, planned for `cuda_kernel.rs` and for the
//! kernel's CPU emulation alike.

use super::{MeanBatch, RowMetric};
use crate::kernels::Launch;

/// The kernel.
pub(crate) const MEAN_UPDATE: &str = "keras_mean_update";

/// The block size `metric.cu`'s reduction is written for (`KERAS_MEAN_THREADS`).
const THREADS: u32 = 256;

/// `keras_mean_update`'s parameters: rows, cols, the form's code and parameter, the unit
/// weight, then the addresses of the predictions, the labels, the weights (0 for none) and the
/// running state.
pub(crate) type MeanParams = (usize, usize, u32, f32, f32, u64, u64, u64, u64);

/// The launch that adds one batch of `form`'s rows to the `[total, count]` at
/// `state[offset..offset + 2]` (`state` is its address and length; `len` and `address` tell
/// those of a batch buffer), or `None` when a buffer is shorter than the batch says. One block
/// of [`THREADS`], as the kernel's reduction requires.
pub(crate) fn plan<B: ?Sized>(
    form: RowMetric,
    batch: &MeanBatch<'_, B>,
    len: impl Fn(&B) -> usize,
    address: impl Fn(&B) -> u64,
    state: (u64, usize),
    offset: usize,
) -> Option<(Launch, MeanParams)> {
    if !batch.fits(form, len, state.1, offset) {
        return None;
    }
    let (code, param) = form.code();
    let params = (
        batch.rows,
        batch.cols,
        code,
        param,
        batch.unit_weight,
        address(batch.y_pred),
        address(batch.y_true),
        batch.weights.map_or(0, address),
        state.0 + (offset * std::mem::size_of::<f32>()) as u64,
    );
    Some((Launch::one_block(THREADS), params))
}
