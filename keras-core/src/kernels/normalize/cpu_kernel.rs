//! `Normalization` on `Cpu`: in `f32` one op on dfdx's tape (rows on rayon's threads), in `f64`
//! dfdx's ops.

use dfdx::shapes::{Const, HasShape, Rank1};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};
use rayon::prelude::*;

use super::with_ops::normalize_kernel_with_ops;
use super::{normalize_with_ops, NormalizeKernel, MIN_STD};
use crate::kernels::contiguous_mut;
use crate::kernels::cpu_view::{contiguous, read};
use crate::kernels::dense::is_data_input;
use crate::kernels::layer_norm::Rows;

normalize_kernel_with_ops!(Cpu: f64);

/// Values per block of work.
const BLOCK: usize = 1 << 14;

/// The fused op. A view that is not row-major and an empty batch go to dfdx's ops. No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl NormalizeKernel<f32> for Cpu {
    fn try_normalize<const C: usize, const INVERT: bool, T: Tape<f32, Self>>(
        x: Rows<C, f32, Self, T>,
        mean: &Tensor<Rank1<C>, f32, Self>,
        variance: &Tensor<Rank1<C>, f32, Self>,
    ) -> Result<Rows<C, f32, Self, T>, CpuError> {
        let rows = x.shape().0;
        let dev = x.device().clone();
        // From dfdx's allocator, so its cache stays balanced. The per-feature standard
        // deviations live in a tensor too (the backward keeps them), not on the stack: `C` can
        // be large.
        let mut out: Tensor<(usize, Const<C>), f32, Cpu> = dev.try_zeros_like(&(rows, Const))?;
        let mut scale: Tensor<Rank1<C>, f32, Cpu> = dev.try_zeros()?;
        let fused = match (
            contiguous(&x).filter(|v| v.len() == rows * C),
            contiguous(mean),
            contiguous(variance),
            contiguous_mut(&mut out),
            contiguous_mut(&mut scale),
        ) {
            (Some(xs), Some(ms), Some(vs), Some(ys), Some(ss)) => {
                for (s, &v) in ss.iter_mut().zip(vs) {
                    *s = std_of(v);
                }
                forward::<INVERT>(xs, ms, ss, ys);
                true
            }
            _ => false,
        };
        if !fused {
            return normalize_with_ops::<C, INVERT, _, _, _>(x, mean, variance);
        }
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let out = out.clone();
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| {
                // The data batch (marked in the gradients its tape carries) gets no gradient,
                // and the statistics never do: nothing to compute.
                if is_data_input(grads, &x) {
                    return Ok(());
                }
                // Borrow the output's gradient by moving it out, so the input's can be borrowed
                // mutably.
                let g = std::mem::take(&mut **grads.get_or_alloc_mut(&out)?);
                backward::<INVERT>(&g, &read(&scale), grads.get_or_alloc_mut(&x)?);
                **grads.get_or_alloc_mut(&out)? = g;
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }
}

/// `max(sqrt(variance), MIN_STD)`, as dfdx's `sqrt` then `clamp` (a NaN stays NaN).
fn std_of(variance: f32) -> f32 {
    let s = variance.sqrt();
    let min = MIN_STD as f32;
    if s < min {
        min
    } else {
        s
    }
}

/// Rows of `scale.len()` features per block of work.
fn rows_per_block(c: usize) -> usize {
    BLOCK.div_ceil(c.max(1)).max(1)
}

/// `y = (x - mean) / scale`, or with `INVERT` `y = x · scale + mean`, feature by feature.
fn forward<const INVERT: bool>(x: &[f32], mean: &[f32], scale: &[f32], y: &mut [f32]) {
    let c = scale.len();
    let per = rows_per_block(c) * c;
    y.par_chunks_mut(per)
        .zip(x.par_chunks(per))
        .for_each(|(y, x)| {
            for (y, x) in y.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
                for (((y, &x), &m), &s) in y.iter_mut().zip(x).zip(mean).zip(scale) {
                    *y = if INVERT { x * s + m } else { (x - m) / s };
                }
            }
        });
}

/// `gx += (1 / scale) · g`, or with `INVERT` `gx += scale · g`, feature by feature: dfdx's
/// division's (multiplication's) gradient.
fn backward<const INVERT: bool>(g: &[f32], scale: &[f32], gx: &mut [f32]) {
    let c = scale.len();
    let per = rows_per_block(c) * c;
    gx.par_chunks_mut(per)
        .zip(g.par_chunks(per))
        .for_each(|(gx, g)| {
            for (gx, g) in gx.chunks_exact_mut(c).zip(g.chunks_exact(c)) {
                for ((to, &g), &s) in gx.iter_mut().zip(g).zip(scale) {
                    let d = if INVERT { s } else { s.recip() };
                    *to += d * g;
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use crate::kernels::hashed_values::hashed_values;
    use crate::kernels::mark_data_input;
    use crate::kernels::normalize::{normalize_with_ops, try_normalize};

    /// Values in [-2, 2).
    fn values(len: usize, seed: u64) -> Vec<f32> {
        hashed_values(len, seed, -2.0, 2.0)
    }

    /// The fused op and dfdx's ops on the same rows: outputs and input gradients (of
    /// `sum(y · w)`), each as a vector.
    fn both<const INVERT: bool>(rows: usize) -> [(Vec<f32>, Vec<f32>); 2] {
        let dev = Cpu::default();
        // Variances from 0 (clamped to 1e-7) to 4, one feature with a zero variance.
        let mut var: Vec<f32> = values(5, 3).iter().map(|v| v * v).collect();
        var[2] = 0.0;
        let variance: Tensor<Rank1<5>, f32, _> = dev.tensor_from_vec(var, (Const,));
        let mean: Tensor<Rank1<5>, f32, _> = dev.tensor_from_vec(values(5, 4), (Const,));
        let x: Tensor<(usize, Const<5>), f32, _> =
            dev.tensor_from_vec(values(rows * 5, 1), (rows, Const));
        let w: Tensor<(usize, Const<5>), f32, _> =
            dev.tensor_from_vec(values(rows * 5, 2), (rows, Const));
        let run = |fused: bool| {
            let y = if fused {
                try_normalize::<5, INVERT, _, _, _>(x.leaky_trace(), &mean, &variance)
            } else {
                normalize_with_ops::<5, INVERT, _, _, _>(x.leaky_trace(), &mean, &variance)
            }
            .unwrap();
            let out = y.retaped::<NoneTape>().as_vec();
            let grads = (y * w.clone()).sum().backward();
            (out, grads.get(&x).as_vec())
        };
        [run(true), run(false)]
    }

    #[test]
    fn the_fused_op_gives_dfdx_ops_bits_forward_and_backward_both_ways() {
        // One row, and rows over several blocks of work.
        for rows in [1, 7, 5000] {
            let [fused, ops] = both::<false>(rows);
            assert_eq!(fused, ops, "normalize, {rows} rows");
            let [fused, ops] = both::<true>(rows);
            assert_eq!(fused, ops, "invert, {rows} rows");
        }
    }

    #[test]
    fn a_zero_variance_divides_by_the_smallest_std_and_the_inverse_multiplies_by_it() {
        let dev = Cpu::default();
        let mean = dev.tensor([0.5f32]);
        let variance = dev.tensor([0.0f32]);
        let x: Tensor<(usize, Const<1>), f32, _> = dev.tensor_from_vec(vec![0.75], (1, Const));
        let y = try_normalize::<1, false, _, _, _>(x.clone(), &mean, &variance).unwrap();
        assert_eq!(y.as_vec(), [0.25 / 1e-7f32]);
        let y = try_normalize::<1, true, _, _, _>(x, &mean, &variance).unwrap();
        assert_eq!(y.as_vec(), [0.75 * 1e-7f32 + 0.5]);
    }

    #[test]
    fn a_marked_batch_and_the_statistics_get_no_gradient_and_a_later_layer_still_does() {
        let dev = Cpu::default();
        let mean: Tensor<Rank1<3>, f32, _> = dev.tensor([1.0, 2.0, 3.0]);
        let variance: Tensor<Rank1<3>, f32, _> = dev.tensor([4.0, 4.0, 4.0]);
        let x: Tensor<(usize, Const<3>), f32, _> = dev.tensor_from_vec(vec![1.0; 6], (2, Const));
        let mut grads = Gradients::leaky();
        mark_data_input(&mut grads, &x);
        let y = try_normalize::<3, false, _, _, _>(x.trace(grads), &mean, &variance).unwrap();
        // A second normalization of the first's output: its input is not the batch.
        let z = try_normalize::<3, true, _, _, _>(y, &mean, &variance).unwrap();
        let mut grads = z.sum().backward();
        // Absent gradients are allocated as zeros here.
        let gx = grads.get_or_alloc_mut(&x).unwrap().to_vec();
        assert_eq!(gx, [0.0; 6], "the batch got a gradient");
        assert_eq!(grads.get_or_alloc_mut(&mean).unwrap().to_vec(), [0.0; 3]);
        assert_eq!(
            grads.get_or_alloc_mut(&variance).unwrap().to_vec(),
            [0.0; 3]
        );
        let unmarked = try_normalize::<3, false, _, _, _>(x.leaky_trace(), &mean, &variance);
        let grads = unmarked.unwrap().sum().backward();
        assert_eq!(grads.get(&x).as_vec(), [0.5; 6]);
    }

    #[test]
    fn a_broadcast_view_and_an_empty_batch_go_to_dfdx_ops() {
        let dev = Cpu::default();
        let mean = dev.tensor([1.0f32, -1.0]);
        let variance = dev.tensor([1.0f32, 0.25]);
        let row: Tensor<Rank1<2>, f32, _> = dev.tensor([3.0, 0.0]);
        // The row repeated 3 times: strides (0, 1), not row-major.
        let x = row
            .leaky_trace()
            .broadcast_like::<_, Axis<0>>(&(3usize, Const::<2>));
        let y = try_normalize::<2, false, _, _, _>(x, &mean, &variance).unwrap();
        assert_eq!(
            y.retaped::<NoneTape>().as_vec(),
            [2.0, 2.0, 2.0, 2.0, 2.0, 2.0]
        );
        let grads = y.sum().backward();
        assert_eq!(grads.get(&row).as_vec(), [3.0, 6.0]);
        let empty: Tensor<(usize, Const<2>), f32, _> = dev.zeros_like(&(0, Const));
        let y = try_normalize::<2, true, _, _, _>(empty, &mean, &variance).unwrap();
        assert_eq!(y.shape().0, 0);
    }
}
