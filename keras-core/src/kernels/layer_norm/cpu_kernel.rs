//! Layer normalization on `Cpu`: in `f32` one op on dfdx's tape (`rows.rs`'s arithmetic), in
//! `f64` dfdx's ops.

use dfdx::shapes::{Const, HasShape, Rank1};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};

use super::with_ops::layer_norm_kernel_with_ops;
use super::{layer_norm_with_ops, rows, LayerNormKernel, Rows};
use crate::kernels::contiguous_mut;
use crate::kernels::cpu_view::{contiguous, read};
use crate::kernels::dense::is_data_input;

layer_norm_kernel_with_ops!(Cpu: f64);

/// The fused op. A view that is not row-major and an empty batch go to dfdx's ops. No input
/// gradient for a batch marked with [`mark_data_input`](crate::kernels::mark_data_input).
impl LayerNormKernel<f32> for Cpu {
    fn try_layer_norm<const M: usize, T: Tape<f32, Self>>(
        x: Rows<M, f32, Self, T>,
        gamma: &Tensor<Rank1<M>, f32, Self>,
        beta: &Tensor<Rank1<M>, f32, Self>,
        epsilon: f64,
    ) -> Result<Rows<M, f32, Self, T>, CpuError> {
        let rows = x.shape().0;
        let dev = x.device().clone();
        // From dfdx's allocator, so its cache stays balanced.
        let mut out: Tensor<(usize, Const<M>), f32, Cpu> = dev.try_zeros_like(&(rows, Const))?;
        let mut stats: Tensor<(usize,), f32, Cpu> = dev.try_zeros_like(&(2 * rows,))?;
        let fused = match (
            contiguous(&x).filter(|v| v.len() == rows * M),
            contiguous(gamma),
            contiguous(beta),
            contiguous_mut(&mut out),
            contiguous_mut(&mut stats),
        ) {
            (Some(xs), Some(gs), Some(bs), Some(ys), Some(ss)) => {
                rows::forward(xs, gs, bs, epsilon as f32, ys, ss);
                true
            }
            _ => false,
        };
        if !fused {
            return layer_norm_with_ops(x, gamma, beta, epsilon);
        }
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let (gamma, beta, out) = (gamma.clone(), beta.clone(), out.clone());
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| {
                // The data batch (marked in the gradients its tape carries) gets no gradient.
                let need_dx = !is_data_input(grads, &x);
                let g_out = std::mem::take(&mut **grads.get_or_alloc_mut(&out)?);
                let (xs, gs, ss) = (read(&x), read(&gamma), read(&stats));
                if need_dx {
                    rows::backward_input(&xs, &gs, &ss, &g_out, grads.get_or_alloc_mut(&x)?);
                }
                let mut dgamma = std::mem::take(&mut **grads.get_or_alloc_mut(&gamma)?);
                let mut dbeta = std::mem::take(&mut **grads.get_or_alloc_mut(&beta)?);
                rows::backward_params(&xs, &ss, &g_out, &mut dgamma, &mut dbeta);
                **grads.get_or_alloc_mut(&gamma)? = dgamma;
                **grads.get_or_alloc_mut(&beta)? = dbeta;
                **grads.get_or_alloc_mut(&out)? = g_out;
                Ok(())
            });
        }
        Ok(out.put_tape(tape))
    }
}
