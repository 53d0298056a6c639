//! Inverted dropout on `Cpu`: the mask recomputed from each element's index (forward and
//! backward), elements split across rayon's threads in blocks.

use dfdx::shapes::{Dtype, HasShape, Shape};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};
use rayon::prelude::*;

use super::{row_major, DropoutMask, DropoutMaskKernel, KeepProbability};

/// Elements per block of work.
const BLOCK: usize = 1 << 14;

/// `DropoutMaskKernel` for `Cpu` in each listed dtype (concrete, so that the tensors' buffers
/// are known to be `Vec`s).
macro_rules! cpu_dropout {
    ($($e:ty),+) => {$(
        impl DropoutMaskKernel<$e> for Cpu {
            fn try_masked_dropout<S: Shape, T: Tape<$e, Self>>(
                x: Tensor<S, $e, Self, T>,
                rate: f64,
                seed: u64,
            ) -> Result<Tensor<S, $e, Self, T>, CpuError> {
                let x = row_major(x)?;
                let mask = DropoutMask::new(rate, seed);
                let keep = <$e as KeepProbability>::keep_probability(rate);
                let mut out: Tensor<S, $e, Cpu> = x.device().try_zeros_like(x.shape())?;
                apply(mask, keep, x.storage(), out.storage_mut(), false);
                let (x, mut tape) = x.split_tape();
                if T::OWNS_TAPE {
                    let out = out.clone();
                    tape.add_backward_op(move |grads: &mut Gradients<$e, Cpu>| {
                        // Borrow the output's gradient by moving it out, so the input's can be
                        // borrowed mutably.
                        let g = std::mem::take(&mut **grads.get_or_alloc_mut(&out)?);
                        apply(mask, keep, &g, grads.get_or_alloc_mut(&x)?, true);
                        **grads.get_or_alloc_mut(&out)? = g;
                        Ok(())
                    });
                }
                Ok(out.put_tape(tape))
            }
        }
    )+};
}

cpu_dropout!(f32, f64);

/// `to[i] = mask(from[i])` (forward) or `to[i] += mask(from[i])` (`add`: backward), where
/// `mask(v)` is `v / keep` for a kept index and 0 otherwise.
fn apply<E: Dtype + Send + Sync>(mask: DropoutMask, keep: E, from: &[E], to: &mut [E], add: bool) {
    to.par_chunks_mut(BLOCK)
        .zip(from.par_chunks(BLOCK))
        .enumerate()
        .for_each(|(block, (to, from))| {
            let first = (block * BLOCK) as u64;
            for (i, (t, &v)) in to.iter_mut().zip(from).enumerate() {
                let kept = mask.keeps(first + i as u64);
                match (add, kept) {
                    (false, true) => *t = v / keep,
                    (false, false) => *t = E::default(),
                    (true, true) => *t += v / keep,
                    (true, false) => {}
                }
            }
        });
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use crate::kernels::{try_masked_dropout, DropoutMask};

    #[test]
    fn kept_elements_are_scaled_and_the_gradient_follows_the_same_mask() {
        let dev = Cpu::default();
        let n = 40_000; // several blocks
        let x: Tensor<(usize,), f32, _> =
            dev.tensor_from_vec((0..n).map(|i| i as f32 * 0.5).collect(), (n,));
        let y = try_masked_dropout(x.leaky_trace(), 0.25, 77).unwrap();
        let out = y.retaped::<NoneTape>().as_vec();
        let grads = (y * 2.0).sum().backward();
        let g = grads.get(&x).as_vec();
        let mask = DropoutMask::new(0.25, 77);
        for i in 0..n {
            let (want_y, want_g) = match mask.keeps(i as u64) {
                true => (i as f32 * 0.5 / 0.75, 2.0 / 0.75),
                false => (0.0, 0.0),
            };
            assert_eq!((out[i], g[i]), (want_y, want_g), "element {i}");
        }
        assert!(g.contains(&0.0) && g.iter().any(|&v| v != 0.0));
    }

    #[test]
    fn rate_one_drops_everything_and_rate_zero_keeps_everything() {
        let dev = Cpu::default();
        let x: Tensor<Rank1<5>, f64, _> = dev.tensor([1.0, -2.0, 3.0, f64::NAN, 5.0]);
        assert_eq!(
            try_masked_dropout(x.clone(), 1.0, 3).unwrap().array(),
            [0.0; 5]
        );
        let kept = try_masked_dropout(x.clone(), 0.0, 3).unwrap().array();
        assert_eq!(kept[..3], [1.0, -2.0, 3.0]);
        assert!(kept[3].is_nan());
    }

    #[test]
    fn a_broadcast_view_is_masked_in_row_major_order_and_its_gradient_summed_back() {
        let dev = Cpu::default();
        let row: Tensor<Rank1<3>, f32, _> = dev.tensor([1.0, 2.0, 4.0]);
        // Four copies of the row: strides (0, 1), not row-major.
        let x = row.leaky_trace().broadcast::<Rank2<4, 3>, _>();
        let y = try_masked_dropout(x, 0.5, 21).unwrap();
        let out = y.retaped::<NoneTape>().as_vec();
        let grads = y.sum().backward();
        let mask = DropoutMask::new(0.5, 21);
        let mut want_grad = [0.0f32; 3];
        for (i, &v) in out.iter().enumerate() {
            let kept = mask.keeps(i as u64);
            assert_eq!(
                v,
                if kept {
                    [1.0, 2.0, 4.0][i % 3] / 0.5
                } else {
                    0.0
                },
                "{i}"
            );
            want_grad[i % 3] += if kept { 2.0 } else { 0.0 };
        }
        assert_eq!(grads.get(&row).array(), want_grad);
        assert!(out.contains(&0.0) && out.iter().any(|&v| v != 0.0));
    }
}
