//! Which pooling a window op computes ([`Pooling`]): one code path per device serves both, with
//! the pooling's own arithmetic where they differ, and dfdx's ops as the common fallback.

use dfdx::shapes::{Dim, Dtype};
use dfdx::tensor::{CopySlice, Tape, ZerosTensor};
use dfdx::tensor_ops::Device;

use super::conv_kernel::Images;
use super::with_ops::{avg_pool2d_with_ops, max_pool2d_with_ops};

/// `MaxPooling2D`'s or `AveragePooling2D`'s pooling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pooling {
    /// The maximum of each window (NaN kept; the gradient to its first maximum).
    Max,
    /// The mean of each window (its sum over its size).
    Avg,
}

impl Pooling {
    /// The pooling with dfdx's ops over gathered windows; `host_memory` as
    /// [`max_pool2d_with_ops`] takes it.
    #[allow(clippy::type_complexity)]
    pub(crate) fn with_ops<
        B: Dim,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const S: usize,
        const OH: usize,
        const OW: usize,
        E: Dtype,
        D: Device<E> + ZerosTensor<usize> + CopySlice<usize>,
        T: Tape<E, D>,
    >(
        self,
        x: Images<B, H, W, C, E, D, T>,
        host_memory: bool,
    ) -> Result<Images<B, OH, OW, C, E, D, T>, D::Err> {
        match self {
            Pooling::Max => {
                max_pool2d_with_ops::<B, H, W, C, K, S, OH, OW, E, D, T>(x, host_memory)
            }
            Pooling::Avg => avg_pool2d_with_ops::<B, H, W, C, K, S, OH, OW, E, D, T>(x),
        }
    }
}
