//! The update of one variable on `Cpu`: the rule's own formula, in place on the model's buffers.

use super::Decay;

/// The most slots a variable has (an update rule's `MAX_SLOTS`).
const MAX_SLOTS: usize = 4;

/// Variables of at least this many values are split across rayon's threads.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// Elements per piece: the piece of each buffer stays in L1/L2 from the decay through the
/// update to the gradient's zeroing.
const PIECE: usize = 4096;

/// Runs `update(value, grad, slots)` over `value` and `grad` (as long as each other) and the
/// slots (each as long as `value`, or empty) piece by piece, applying `decay` to each piece of
/// `value` first and zeroing each piece of `grad` after; on rayon's threads for large variables.
/// `update` must treat every element on its own (an elementwise rule), so that pieces give the
/// bits of one call over the whole.
pub(crate) fn update_in_place<F>(
    value: &mut [f32],
    grad: &mut [f32],
    slots: &mut [&mut [f32]],
    decay: Option<Decay>,
    update: &F,
) where
    F: Fn(&mut [f32], &[f32], &mut [&mut [f32]]) + Sync,
{
    let len = value.len();
    debug_assert_eq!(grad.len(), len);
    if len < PARALLEL_MIN_LEN || rayon::current_num_threads() < 2 {
        in_pieces(value, grad, slots, decay, update);
        return;
    }
    // Halves at a multiple of 64 elements, so every block but the last keeps whole vectors.
    let mid = (len / 2).next_multiple_of(64).min(len);
    let (value_a, value_b) = value.split_at_mut(mid);
    let (grad_a, grad_b) = grad.split_at_mut(mid);
    let n = slots.len().min(MAX_SLOTS);
    let mut slots_a: [&mut [f32]; MAX_SLOTS] = Default::default();
    let mut slots_b: [&mut [f32]; MAX_SLOTS] = Default::default();
    for ((slot, a), b) in slots.iter_mut().zip(&mut slots_a).zip(&mut slots_b) {
        if slot.len() == len {
            (*a, *b) = slot.split_at_mut(mid);
        }
    }
    rayon::join(
        || update_in_place(value_a, grad_a, &mut slots_a[..n], decay, update),
        || update_in_place(value_b, grad_b, &mut slots_b[..n], decay, update),
    );
}

fn in_pieces<F>(
    value: &mut [f32],
    grad: &mut [f32],
    slots: &mut [&mut [f32]],
    decay: Option<Decay>,
    update: &F,
) where
    F: Fn(&mut [f32], &[f32], &mut [&mut [f32]]),
{
    let len = value.len();
    let n = slots.len().min(MAX_SLOTS);
    for first in (0..len).step_by(PIECE) {
        let piece = first..(first + PIECE).min(len);
        let mut pieces: [&mut [f32]; MAX_SLOTS] = Default::default();
        for (to, slot) in pieces.iter_mut().zip(slots.iter_mut()) {
            *to = if slot.len() == len {
                &mut slot[piece.clone()]
            } else {
                &mut []
            };
        }
        let values = &mut value[piece.clone()];
        if let Some(d) = decay {
            d.apply(values);
        }
        update(values, &grad[piece.clone()], &mut pieces[..n]);
        grad[piece].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::{update_in_place, Decay, PARALLEL_MIN_LEN};

    fn momentum_rule(w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let m = &mut slots[0];
        for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
            *m = *m * 0.9 - g * 0.1;
            *w += *m;
        }
    }

    #[test]
    fn pieces_and_threads_give_the_bits_of_one_pass_and_zero_the_gradient() {
        let n = PARALLEL_MIN_LEN * 2 + 77;
        let init: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let grad: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
        let decay = Decay {
            weight_decay: 0.01,
            learning_rate: 0.1,
        };
        let (mut w1, mut g1, mut m1) = (init.clone(), grad.clone(), vec![0.5f32; n]);
        update_in_place(
            &mut w1,
            &mut g1,
            &mut [&mut m1[..]],
            Some(decay),
            &momentum_rule,
        );
        let (mut w2, mut m2) = (init.clone(), vec![0.5f32; n]);
        decay.apply(&mut w2);
        momentum_rule(&mut w2, &grad, &mut [&mut m2[..]]);
        assert_eq!(w1, w2);
        assert_eq!(m1, m2);
        assert!(g1.iter().all(|g| *g == 0.0), "the gradient is zeroed");
    }
}
