//! Batch normalization on `Cpu`: in `f32` one op on dfdx's tape each way (`columns.rs`'s
//! arithmetic), in `f64` dfdx's ops.

use dfdx::shapes::{Const, HasShape, Rank1};
use dfdx::tensor::{
    Cpu, CpuError, Gradients, NoneTape, PutTape, SplitTape, Tape, Tensor, ZerosTensor,
};

use super::with_ops::batch_norm_kernel_with_ops;
use super::{
    batch_norm_infer_with_ops, batch_norm_train_with_ops, columns, BatchNormKernel, Moving,
};
use crate::kernels::contiguous_mut;
use crate::kernels::cpu_view::{contiguous, read};
use crate::kernels::dense::is_data_input;
use crate::kernels::layer_norm::Rows;

batch_norm_kernel_with_ops!(Cpu: f64);

/// The fused ops. A view that is not row-major and an empty batch go to dfdx's ops. No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl BatchNormKernel<f32> for Cpu {
    fn try_batch_norm_train<const C: usize, T: Tape<f32, Self>>(
        x: Rows<C, f32, Self, T>,
        gamma: &Tensor<Rank1<C>, f32, Self>,
        beta: &Tensor<Rank1<C>, f32, Self>,
        moving: Moving<'_, C, f32, Self>,
        epsilon: f64,
    ) -> Result<Rows<C, f32, Self, T>, CpuError> {
        let rows = x.shape().0;
        let dev = x.device().clone();
        // From dfdx's allocator, so its cache stays balanced: the output, then each feature's
        // mean and reciprocal deviation.
        let mut out: Rows<C, f32, Cpu, _> = dev.try_zeros_like(&(rows, Const))?;
        let mut stats: Tensor<(usize,), f32, Cpu> = dev.try_zeros_like(&(2 * C,))?;
        let (keep, take) = (moving.momentum as f32, (1.0 - moving.momentum) as f32);
        let fused = match (
            contiguous(&x).filter(|v| v.len() == rows * C),
            contiguous(gamma),
            contiguous(beta),
            contiguous_mut(&mut out),
            contiguous_mut(&mut stats),
        ) {
            (Some(xs), Some(gs), Some(bs), Some(ys), Some(ss)) => {
                match (contiguous_mut(moving.mean), contiguous_mut(moving.variance)) {
                    (Some(moving_mean), Some(moving_variance)) => {
                        let (mean, rstd) = ss.split_at_mut(C);
                        let var = columns::batch_statistics(xs, epsilon as f32, mean, rstd);
                        columns::normalize(xs, mean, rstd, gs, bs, ys);
                        columns::update_moving(moving_mean, mean, keep, take);
                        columns::update_moving(moving_variance, &var, keep, take);
                        true
                    }
                    _ => false,
                }
            }
            _ => false,
        };
        if !fused {
            return batch_norm_train_with_ops(x, gamma, beta, moving, epsilon);
        }
        Ok(with_backward(x, (gamma, beta), out, stats, true))
    }

    fn try_batch_norm_infer<const C: usize, T: Tape<f32, Self>>(
        x: Rows<C, f32, Self, T>,
        gamma: &Tensor<Rank1<C>, f32, Self>,
        beta: &Tensor<Rank1<C>, f32, Self>,
        moving_mean: &Tensor<Rank1<C>, f32, Self>,
        moving_variance: &Tensor<Rank1<C>, f32, Self>,
        epsilon: f64,
    ) -> Result<Rows<C, f32, Self, T>, CpuError> {
        let rows = x.shape().0;
        let dev = x.device().clone();
        let mut out: Rows<C, f32, Cpu, _> = dev.try_zeros_like(&(rows, Const))?;
        let mut stats: Tensor<(usize,), f32, Cpu> = dev.try_zeros_like(&(2 * C,))?;
        let fused = match (
            contiguous(&x).filter(|v| v.len() == rows * C),
            contiguous(gamma),
            contiguous(beta),
            contiguous(moving_mean),
            contiguous(moving_variance),
            contiguous_mut(&mut out),
            contiguous_mut(&mut stats),
        ) {
            (Some(xs), Some(gs), Some(bs), Some(mm), Some(mv), Some(ys), Some(ss)) => {
                let (mean, rstd) = ss.split_at_mut(C);
                mean.copy_from_slice(mm);
                for (r, &v) in rstd.iter_mut().zip(mv) {
                    *r = 1.0 / (v + epsilon as f32).sqrt();
                }
                columns::normalize(xs, mean, rstd, gs, bs, ys);
                true
            }
            _ => false,
        };
        if !fused {
            return batch_norm_infer_with_ops(
                x,
                gamma,
                beta,
                moving_mean,
                moving_variance,
                epsilon,
            );
        }
        Ok(with_backward(x, (gamma, beta), out, stats, false))
    }
}

/// `out` on `x`'s tape, with the backward of the op that made it from `x` registered when the
/// tape records; `stats` holds the statistics it used (`C` means, then `C` reciprocal
/// deviations), `training` whether they were the batch's.
fn with_backward<const C: usize, T: Tape<f32, Cpu>>(
    x: Rows<C, f32, Cpu, T>,
    (gamma, beta): (&Tensor<Rank1<C>, f32, Cpu>, &Tensor<Rank1<C>, f32, Cpu>),
    out: Rows<C, f32, Cpu, NoneTape>,
    stats: Tensor<(usize,), f32, Cpu>,
    training: bool,
) -> Rows<C, f32, Cpu, T> {
    let (x, mut tape) = x.split_tape();
    if T::OWNS_TAPE {
        let (gamma, beta, result) = (gamma.clone(), beta.clone(), out.clone());
        tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| {
            // The data batch (marked in the gradients its tape carries) gets no gradient.
            let need_dx = !is_data_input(grads, &x);
            let g_out = std::mem::take(&mut **grads.get_or_alloc_mut(&result)?);
            let (xs, gs, ss) = (read(&x), read(&gamma), read(&stats));
            let (mean, rstd) = ss.split_at(C);
            let backward = columns::Backward {
                x: &xs,
                g: &g_out,
                mean,
                rstd,
                gamma: &gs,
                training,
            };
            let mut dgamma = std::mem::take(&mut **grads.get_or_alloc_mut(&gamma)?);
            let mut dbeta = std::mem::take(&mut **grads.get_or_alloc_mut(&beta)?);
            match need_dx {
                true => backward.run(&mut dgamma, &mut dbeta, Some(grads.get_or_alloc_mut(&x)?)),
                false => backward.run(&mut dgamma, &mut dbeta, None),
            }
            **grads.get_or_alloc_mut(&gamma)? = dgamma;
            **grads.get_or_alloc_mut(&beta)? = dbeta;
            **grads.get_or_alloc_mut(&result)? = g_out;
            Ok(())
        });
    }
    out.put_tape(tape)
}
