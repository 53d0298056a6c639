//! Sliding windows over channels-last images, shared by `Conv2D` and the pooling layers.
//!
//! dfdx 0.13's `conv2d`/`pool2d` tensor ops are compiled only with its nightly feature, so the
//! windows are gathered with the stable, differentiable `gather` op (im2col): every `K x K`
//! window of a `(batch, H, W, C)` input becomes `K * K` rows of a `(rows, C)` tensor, in
//! `(batch, oy, ox, ky, kx)` order, with zeros where a window hangs over the zero padding.

use dfdx::shapes::{Const, Dim, Dtype, HasShape};
use dfdx::tensor::{Tape, Tensor};
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

/// Gathers every `K x K` window (stride `S`, zero padding `P`) of `x`:
/// `(batch, H, W, C)` → `(batch * OH * OW * K * K, C)`.
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
    D: Device<E>,
    T: Tape<E, D>,
>(
    x: Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>,
) -> Result<Rows<C, E, D, T>, D::Err> {
    let batch = x.shape().0.size();
    let dev = x.device().clone();
    let n = batch * OH * OW * K * K;
    let mut rows = Vec::with_capacity(n);
    let mut mask = Vec::with_capacity(n);
    let mut padded = false;
    for b in 0..batch {
        for oy in 0..OH {
            for ox in 0..OW {
                for ky in 0..K {
                    for kx in 0..K {
                        let (iy, ix) = (oy * S + ky, ox * S + kx);
                        if iy >= P && ix >= P && iy - P < H && ix - P < W {
                            rows.push((b * H + iy - P) * W + ix - P);
                            mask.push(E::ONE);
                        } else {
                            rows.push(0);
                            mask.push(E::default());
                            padded = true;
                        }
                    }
                }
            }
        }
    }
    let pixels = x.try_reshape_like(&(batch * H * W, Const::<C>))?;
    let idx = dev.try_tensor_from_vec(rows, (n,))?;
    let windows = pixels.try_gather(idx)?;
    if !padded {
        return Ok(windows);
    }
    let mask = dev
        .try_tensor_from_vec(mask, (n,))?
        .try_broadcast_like(&(n, Const::<C>))?;
    windows.try_mul(mask)
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
