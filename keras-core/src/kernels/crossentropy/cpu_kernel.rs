//! The softmax crossentropy on `Cpu`: one pass over the rows forward (each row's loss, and its
//! log-sum-exp and label sum kept for the backward), one over the elements backward, with the
//! arithmetic of `crossentropy.cu` (the rows are summed in order here, in a tree there).

use dfdx::shapes::{Const, HasShape};
use dfdx::tensor::{
    Cpu, CpuError, Gradients, Merge, NoneTape, PutTape, SplitTape, Tape, Tensor, ZerosTensor,
};

use super::{softmax_crossentropy_with_ops, SoftmaxCrossentropyKernel};
use crate::kernels::cpu_view::contiguous;

impl SoftmaxCrossentropyKernel for Cpu {
    fn try_softmax_crossentropy<const K: usize, T>(
        logits: Tensor<(usize, Const<K>), f32, Self, T>,
        labels: &Tensor<(usize, Const<K>), f32, Self>,
        weights: Option<&Tensor<(usize,), f32, Self>>,
        divisor: f32,
    ) -> Result<Tensor<(), f32, Self, T>, CpuError>
    where
        T: Tape<f32, Self> + Merge<NoneTape>,
    {
        let (total, stats) = match rows_of::<K, T>(&logits, labels, weights) {
            Some((x, t, w)) => {
                // From dfdx's allocator (its cache), as the step's other buffers.
                let mut stats: Tensor<(usize,), f32, Cpu> =
                    logits.device().try_zeros_like(&(2 * (x.len() / K),))?;
                (forward_rows(x, t, w, K, stats.storage_mut()), stats)
            }
            // Views, empty batches and mismatched shapes: dfdx's ops (which report the last).
            None => return softmax_crossentropy_with_ops(logits, labels, weights, divisor),
        };
        let mut loss: Tensor<(), f32, Cpu> = logits.device().try_zeros()?;
        loss.copy_from(&[divided(total, divisor)]);
        let (logits, mut tape) = logits.split_tape();
        if T::OWNS_TAPE {
            let saved = Saved {
                logits,
                labels: labels.clone(),
                weights: weights.cloned(),
                loss: loss.clone(),
                stats,
                divisor,
            };
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| saved.backward(grads));
        }
        Ok(loss.put_tape(tape))
    }
}

/// The logits, labels and weights as row-major slices of `rows × K`, `rows × K` and `rows`
/// values, when they are all stored so and not empty.
#[allow(clippy::type_complexity)]
fn rows_of<'a, const K: usize, T>(
    logits: &'a Tensor<(usize, Const<K>), f32, Cpu, T>,
    labels: &'a Tensor<(usize, Const<K>), f32, Cpu>,
    weights: Option<&'a Tensor<(usize,), f32, Cpu>>,
) -> Option<(&'a [f32], &'a [f32], Option<&'a [f32]>)> {
    let rows = logits.shape().0;
    let x = contiguous(logits).filter(|x| x.len() == rows * K)?;
    let t = contiguous(labels).filter(|t| t.len() == rows * K)?;
    let w = match weights {
        Some(w) => Some(contiguous(w).filter(|w| w.len() == rows)?),
        None => None,
    };
    Some((x, t, w))
}

/// `total / divisor`, or `total · 0` when `divisor` is 0 (Keras's `divide_no_nan`, NaN kept).
fn divided(total: f32, divisor: f32) -> f32 {
    if divisor == 0.0 {
        total * 0.0
    } else {
        total / divisor
    }
}

/// The weighted sum of the rows' losses `-sum(t · log_softmax(x))` over `k`-wide rows, each
/// row's log-sum-exp and label sum written to `stats` (two per row), as `keras_xent_forward`
/// computes them (`jax.nn.log_softmax`'s arithmetic).
fn forward_rows(x: &[f32], t: &[f32], w: Option<&[f32]>, k: usize, stats: &mut [f32]) -> f32 {
    let mut total = 0.0f32;
    for (r, ((xr, tr), stat)) in x
        .chunks_exact(k)
        .zip(t.chunks_exact(k))
        .zip(stats.chunks_exact_mut(2))
        .enumerate()
    {
        let m = xr[1..]
            .iter()
            .fold(xr[0], |m, &v| if v > m { v } else { m });
        let s: f32 = xr.iter().map(|&v| (v - m).exp()).sum();
        let log_s = s.ln();
        let (mut dot, mut label_sum) = (0.0f32, 0.0f32);
        for (&xv, &tv) in xr.iter().zip(tr) {
            dot += tv * ((xv - m) - log_s);
            label_sum += tv;
        }
        stat[0] = m + log_s;
        stat[1] = label_sum;
        total += match w {
            Some(w) => -dot * w[r],
            None => -dot,
        };
    }
    total
}

/// Adds `scale · w_r · (exp(x - lse_r) · sum(t_r) - t)` to `grad`, element by element, as
/// `keras_xent_backward` does (`scale` is the loss's gradient over the divisor).
fn backward_elements(
    x: &[f32],
    t: &[f32],
    w: Option<&[f32]>,
    stats: &[f32],
    k: usize,
    scale: f32,
    grad: &mut [f32],
) {
    for (i, ((g, &xv), &tv)) in grad.iter_mut().zip(x).zip(t).enumerate() {
        let r = i / k;
        let d = (xv - stats[2 * r]).exp() * stats[2 * r + 1] - tv;
        *g += d * w.map_or(scale, |w| w[r] * scale);
    }
}

/// The loss's gradient over the divisor (0 when the divisor is 0).
fn scale(upstream: f32, divisor: f32) -> f32 {
    if divisor == 0.0 {
        0.0
    } else {
        upstream / divisor
    }
}

/// What the backward needs, kept alive by the tape.
struct Saved<const K: usize> {
    logits: Tensor<(usize, Const<K>), f32, Cpu>,
    labels: Tensor<(usize, Const<K>), f32, Cpu>,
    weights: Option<Tensor<(usize,), f32, Cpu>>,
    loss: Tensor<(), f32, Cpu>,
    stats: Tensor<(usize,), f32, Cpu>,
    divisor: f32,
}

impl<const K: usize> Saved<K> {
    /// Adds to the logits' gradient.
    fn backward(self, grads: &mut Gradients<f32, Cpu>) -> Result<(), CpuError> {
        let upstream = grads.get_or_alloc_mut(&self.loss)?[0];
        // The forward took these slices, so they are still there.
        let (x, t, w) = rows_of::<K, NoneTape>(&self.logits, &self.labels, self.weights.as_ref())
            .ok_or(CpuError::WrongNumElements)?;
        let grad = grads.get_or_alloc_mut(&self.logits)?;
        backward_elements(
            x,
            t,
            w,
            self.stats.storage(),
            K,
            scale(upstream, self.divisor),
            grad,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use crate::kernels::{softmax_crossentropy_with_ops, try_softmax_crossentropy};

    const K: usize = 5;

    /// The loss and the logits' gradient (the loss scaled by 3 first), fused or with dfdx's ops.
    fn run(fused: bool, x: &[f32], t: &[f32], w: Option<&[f32]>, divisor: f32) -> (f32, Vec<f32>) {
        let dev = Cpu::default();
        let rows = x.len() / K;
        let x: Tensor<(usize, Const<K>), f32, _> = dev.tensor_from_vec(x.to_vec(), (rows, Const));
        let t = dev.tensor_from_vec(t.to_vec(), (rows, Const::<K>));
        let w = w.map(|w| dev.tensor_from_vec(w.to_vec(), (rows,)));
        let loss = if fused {
            try_softmax_crossentropy(x.leaky_trace(), &t, w.as_ref(), divisor).unwrap()
        } else {
            softmax_crossentropy_with_ops(x.leaky_trace(), &t, w.as_ref(), divisor).unwrap()
        };
        let value = loss.array();
        let mut grads = (loss * 3.0).backward();
        (value, grads.get_or_alloc_mut(&x).unwrap().to_vec())
    }

    fn close(a: f32, b: f32) -> bool {
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-5 * (1.0 + b.abs())
    }

    /// Logits spread over ±8, smoothed one-hot labels, and weights with a zero.
    fn batch(rows: usize) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let x = (0..rows * K)
            .map(|i| ((i * 37 % 23) as f32 - 11.0) * 0.7)
            .collect();
        let t = (0..rows * K)
            .map(|i| if i % K == (i / K) % K { 0.92 } else { 0.02 })
            .collect();
        let w = (0..rows).map(|r| (r % 4) as f32 * 0.5).collect();
        (x, t, w)
    }

    #[test]
    fn the_fused_loss_matches_dfdx_ops_in_value_and_gradient() {
        let (x, t, w) = batch(7);
        for (weights, divisor) in [(None, 7.0), (Some(&w[..]), w.iter().sum()), (None, 1.0)] {
            let fused = run(true, &x, &t, weights, divisor);
            let ops = run(false, &x, &t, weights, divisor);
            assert!(close(fused.0, ops.0), "{} vs {}", fused.0, ops.0);
            assert!(fused.1.iter().zip(&ops.1).all(|(a, b)| close(*a, *b)));
            assert!(fused.1.iter().any(|g| *g != 0.0));
        }
    }

    #[test]
    fn a_zero_divisor_gives_zero_and_a_nan_logit_gives_nan() {
        let (mut x, t, _) = batch(3);
        let (loss, grad) = run(true, &x, &t, None, 0.0);
        assert_eq!(loss, 0.0);
        assert!(grad.iter().all(|g| *g == 0.0));
        x[6] = f32::NAN;
        let fused = run(true, &x, &t, None, 3.0);
        let ops = run(false, &x, &t, None, 3.0);
        assert!(fused.0.is_nan() && ops.0.is_nan());
        // The NaN row's gradient is NaN in both; the other rows' are finite and agree.
        for (i, (a, b)) in fused.1.iter().zip(&ops.1).enumerate() {
            assert_eq!(a.is_nan(), (K..2 * K).contains(&i), "element {i}");
            assert!(close(*a, *b), "element {i}: {a} vs {b}");
        }
    }

    #[test]
    fn large_logits_do_not_overflow() {
        let x = [1000.0, 0.0, -1000.0, 10.0, 20.0];
        let t = [0.0, 1.0, 0.0, 0.0, 0.0];
        let (loss, grad) = run(true, &x, &t, None, 1.0);
        assert!(close(loss, 1000.0), "{loss}");
        assert!(close(grad[0], 3.0) && close(grad[1], -3.0));
    }
}
