//! Global average pooling on `Cpu`: in `f32` one op on dfdx's tape (batch rows on rayon's
//! threads, each channel summed over the steps in order), in `f64` dfdx's mean.

use dfdx::shapes::{Const, Dim, HasShape};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};
use rayon::prelude::*;

use super::with_ops::global_pool_kernel_with_ops;
use super::{global_avg_pool_with_ops, GlobalPoolKernel, Pooled, Steps};
use crate::kernels::contiguous_mut;
use crate::kernels::cpu_view::contiguous;

global_pool_kernel_with_ops!(Cpu: f64);

/// Values per block of work.
const BLOCK: usize = 1 << 14;

/// The fused op. A view that is not row-major and an empty tensor go to dfdx's mean.
impl GlobalPoolKernel<f32> for Cpu {
    fn try_global_avg_pool<B: Dim, const C: usize, T: Tape<f32, Self>>(
        x: Steps<B, C, f32, Self, T>,
    ) -> Result<Pooled<B, C, f32, Self, T>, CpuError> {
        let (batch, steps, _) = *x.shape();
        // From dfdx's allocator, so its cache stays balanced.
        let mut out: Tensor<(B, Const<C>), f32, Cpu> =
            x.device().try_zeros_like(&(batch, Const))?;
        let fused = match (
            contiguous(&x).filter(|v| steps > 0 && v.len() == batch.size() * steps * C),
            contiguous_mut(&mut out),
        ) {
            (Some(xs), Some(ys)) => {
                forward(xs, steps, C, ys);
                true
            }
            _ => false,
        };
        if !fused {
            return global_avg_pool_with_ops(x);
        }
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let out = out.clone();
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| {
                // Borrow the output's gradient by moving it out, so the input's can be borrowed
                // mutably.
                let g = std::mem::take(&mut **grads.get_or_alloc_mut(&out)?);
                backward(&g, steps, C, grads.get_or_alloc_mut(&x)?);
                **grads.get_or_alloc_mut(&out)? = g;
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }
}

/// Batch rows per block of work for rows of `row_len` values.
fn rows_per_block(row_len: usize) -> usize {
    BLOCK.div_ceil(row_len.max(1)).max(1)
}

/// `y[b, c]` = the sum of `x[b, s, c]` over the `steps` in order, divided by `steps`.
fn forward(x: &[f32], steps: usize, c: usize, y: &mut [f32]) {
    let per = rows_per_block(steps * c);
    y.par_chunks_mut(per * c)
        .zip(x.par_chunks(per * steps * c))
        .for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(c).zip(x.chunks_exact(steps * c)) {
                for step in x.chunks_exact(c) {
                    for (acc, &v) in y.iter_mut().zip(step) {
                        *acc += v;
                    }
                }
                let n = steps as f32;
                y.iter_mut().for_each(|v| *v /= n);
            }
        });
}

/// `gx[b, s, c] += g[b, c] / steps` for every step `s`.
fn backward(g: &[f32], steps: usize, c: usize, gx: &mut [f32]) {
    let per = rows_per_block(steps * c);
    let n = steps as f32;
    gx.par_chunks_mut(per * steps * c)
        .zip(g.par_chunks(per * c))
        .for_each(|(gx, g)| {
            for (gx, g) in gx.chunks_exact_mut(steps * c).zip(g.chunks_exact(c)) {
                for step in gx.chunks_exact_mut(c) {
                    for (to, &v) in step.iter_mut().zip(g) {
                        *to += v / n;
                    }
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use crate::kernels::global_pool::{global_avg_pool_with_ops, try_global_avg_pool};
    use crate::kernels::hashed_values::hashed_values;

    /// Values in [-2, 2).
    fn values(len: usize, seed: u64) -> Vec<f32> {
        hashed_values(len, seed, -2.0, 2.0)
    }

    #[test]
    fn the_fused_pooling_is_the_steps_mean_in_order_and_its_gradient_the_share_of_each_step() {
        let dev = Cpu::default();
        // Batches that span blocks of work, one step, and many steps.
        for (batch, steps) in [(3, 7), (700, 5), (2, 1), (1, 3000)] {
            let n = batch * steps * 6;
            let x: Tensor<(usize, usize, Const<6>), f32, _> =
                dev.tensor_from_vec(values(n, 1), (batch, steps, Const));
            let w: Tensor<(usize, Const<6>), f32, _> =
                dev.tensor_from_vec(values(batch * 6, 2), (batch, Const));
            let y = try_global_avg_pool(x.leaky_trace()).unwrap();
            let got = y.retaped::<NoneTape>().as_vec();
            let xs = x.as_vec();
            for b in 0..batch {
                for c in 0..6 {
                    let mut sum = 0.0f32;
                    for s in 0..steps {
                        sum += xs[(b * steps + s) * 6 + c];
                    }
                    assert_eq!(
                        got[b * 6 + c],
                        sum / steps as f32,
                        "{batch}x{steps}: {b}, {c}"
                    );
                }
            }
            let want = global_avg_pool_with_ops(x.clone()).unwrap().as_vec();
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() <= 1e-5 * (1.0 + w.abs()), "{g} vs dfdx's {w}");
            }
            let grads = (y * w.clone()).sum().backward();
            let gx = grads.get(&x).as_vec();
            let ws = w.as_vec();
            for (i, g) in gx.iter().enumerate() {
                let (b, c) = (i / (steps * 6), i % 6);
                assert_eq!(
                    *g,
                    ws[b * 6 + c] / steps as f32,
                    "{batch}x{steps}: gradient {i}"
                );
            }
        }
    }

    #[test]
    fn a_broadcast_view_and_an_empty_batch_go_to_dfdx_mean() {
        let dev = Cpu::default();
        // Quarters: three copies sum and divide by 3 exactly.
        let rows: Tensor<(usize, Const<4>), f32, _> = dev.tensor_from_vec(
            vec![0.25, -1.5, 2.0, 0.75, -0.5, 1.25, 3.0, -2.25],
            (2, Const),
        );
        // Each row repeated over 3 steps: strides (4, 0, 1), not row-major.
        let x = rows
            .leaky_trace()
            .broadcast_like::<_, Axis<1>>(&(2usize, 3usize, Const::<4>));
        let y = try_global_avg_pool(x).unwrap();
        assert_eq!(y.retaped::<NoneTape>().as_vec(), rows.as_vec());
        let grads = y.sum().backward();
        assert_eq!(grads.get(&rows).as_vec(), [1.0; 8]);
        let empty: Tensor<(usize, usize, Const<2>), f32, _> = dev.zeros_like(&(0, 3, Const));
        assert_eq!(try_global_avg_pool(empty).unwrap().shape().0, 0);
    }
}
