//! Sliding windows over channels-last images with dfdx's ops: `Conv2D`'s, `MaxPool2D`'s and
//! `AvgPool2D`'s forward where the device has no fused kernel for them (`f64`, and views or
//! empty batches in `f32`; see [`ConvKernel`](crate::kernels::ConvKernel)).
//!
//! dfdx 0.13's `conv2d`/`pool2d` tensor ops are compiled only with its nightly feature, so the
//! windows are gathered with the stable, differentiable `gather` op (im2col): every `K x K`
//! window of a `(batch, H, W, C)` input becomes `K * K` rows of a `(rows, C)` tensor, in
//! `(batch, oy, ox, ky, kx)` order, with zeros where a window hangs over the zero padding.

use std::cell::RefCell;

use dfdx::shapes::{Const, Dim, Dtype, HasShape, Rank1};
use dfdx::tensor::{CopySlice, Tape, Tensor, ZerosTensor};
use dfdx::tensor_ops::{BroadcastTo, Device, GatherTo, ReshapeTo, TryMul};

/// Compile-time check of one spatial size: `OUT == (IN + 2 * P - K) / S + 1`.
pub(crate) struct WindowSize<
    const IN: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OUT: usize,
>;

impl<const IN: usize, const K: usize, const S: usize, const P: usize, const OUT: usize>
    WindowSize<IN, K, S, P, OUT>
{
    /// Fails the build when the output size does not follow from the input, kernel, stride and
    /// padding.
    pub(crate) const CHECK: () = assert!(
        K > 0 && S > 0 && IN + 2 * P >= K && OUT == (IN + 2 * P - K) / S + 1,
        "2D window layer: each output size must equal (input + 2 * padding - kernel) / stride + 1, \
         with kernel <= input + 2 * padding and stride >= 1"
    );
}

/// A batch of window rows: `(rows, C)`.
pub(crate) type Rows<const C: usize, E, D, T> = Tensor<(usize, Const<C>), E, D, T>;

thread_local! {
    /// The host-side index lists of [`gather_windows`] (each window row's pixel, and whether it is
    /// padding), kept between calls so that a training step allocates no host memory for them.
    static SCRATCH: RefCell<(Vec<usize>, Vec<usize>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Gathers every `K x K` window (stride `S`, zero padding `P`) of `x`:
/// `(batch, H, W, C)` → `(batch * OH * OW * K * K, C)`.
///
/// Every device buffer it creates (the index tensors, the padding mask) is asked of the device's
/// allocator, never moved in from a `Vec`: with dfdx's allocation cache on, a buffer moved in
/// goes into the cache when freed but no later request takes it back, so the cache (and the
/// process) would grow by the index lists' size at every step.
pub(crate) fn gather_windows<
    B: Dim,
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
    E: Dtype,
    D: Device<E> + ZerosTensor<usize> + CopySlice<usize>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>,
) -> Result<Rows<C, E, D, T>, D::Err> {
    let batch = x.shape().0.size();
    let dev = x.device().clone();
    let n = batch * OH * OW * K * K;
    let (idx, padding) = SCRATCH.with(|scratch| {
        let (rows, pad) = &mut *scratch.borrow_mut();
        rows.clear();
        pad.clear();
        let mut padded = false;
        for b in 0..batch {
            for oy in 0..OH {
                for ox in 0..OW {
                    for ky in 0..K {
                        for kx in 0..K {
                            let (iy, ix) = (oy * S + ky, ox * S + kx);
                            if iy >= P && ix >= P && iy - P < H && ix - P < W {
                                rows.push((b * H + iy - P) * W + ix - P);
                                pad.push(1);
                            } else {
                                rows.push(0);
                                pad.push(0);
                                padded = true;
                            }
                        }
                    }
                }
            }
        }
        let idx = device_indices(&dev, rows)?;
        let padding = if padded {
            Some(device_indices(&dev, pad)?)
        } else {
            None
        };
        Ok::<_, D::Err>((idx, padding))
    })?;
    let pixels = x.try_reshape_like(&(batch * H * W, Const::<C>))?;
    let windows = pixels.try_gather(idx)?;
    let Some(padding) = padding else {
        return Ok(windows);
    };
    // The mask is `[0, 1]` gathered by the padding flags: one value per window row.
    let mut zero_one: Tensor<Rank1<2>, E, D> = dev.try_zeros()?;
    zero_one.copy_from(&[E::default(), E::ONE]);
    let mask = zero_one
        .try_gather(padding)?
        .try_broadcast_like(&(n, Const::<C>))?;
    windows.try_mul(mask)
}

/// `values` as a device tensor taken from the device's allocator (and so from its cache).
fn device_indices<D: ZerosTensor<usize> + CopySlice<usize>>(
    dev: &D,
    values: &[usize],
) -> Result<Tensor<(usize,), usize, D>, D::Err> {
    let mut t = dev.try_zeros_like(&(values.len(),))?;
    t.copy_from(values);
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::gather_windows;
    use dfdx::prelude::*;

    #[test]
    fn windows_follow_row_major_order_with_zero_padding() {
        let dev = Cpu::default();
        // one 2x2 single-channel image [[1, 2], [3, 4]], 3x3 windows, padding 1 → 2x2 outputs
        let x: Tensor<(usize, Const<2>, Const<2>, Const<1>), f32, _> =
            dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0], (1, Const, Const, Const));
        let w = gather_windows::<_, 2, 2, 1, 3, 1, 1, 2, 2, _, _, _>(x)
            .unwrap()
            .as_vec();
        assert_eq!(w.len(), 4 * 9);
        assert_eq!(&w[..9], &[0.0, 0.0, 0.0, 0.0, 1.0, 2.0, 0.0, 3.0, 4.0]);
        assert_eq!(&w[27..], &[1.0, 2.0, 0.0, 3.0, 4.0, 0.0, 0.0, 0.0, 0.0]);
    }
}
