//! The update of one variable on `Cpu`: the rule's own formula, in place on the model's buffers,
//! with the base optimizer's elementwise stages around it.

use super::{clip_value, unscale, GradScale, Stages};

/// The most slots a variable has (an update rule's `MAX_SLOTS`).
const MAX_SLOTS: usize = 4;

/// Variables of at least this many values are split across rayon's threads.
const PARALLEL_MIN_LEN: usize = 1 << 15;

/// Elements per piece: the piece of each buffer stays in L1/L2 from the gradient's preparation
/// through the update to the gradient's zeroing.
const PIECE: usize = 4096;

/// One variable's buffers, or a piece of each: its values, its gradient, the rule's slots (each
/// as long as the values, or empty), and the accumulator and moving average (empty when unused).
pub(crate) struct VarPieces<'a> {
    pub(crate) value: &'a mut [f32],
    pub(crate) grad: &'a mut [f32],
    pub(crate) slots: [&'a mut [f32]; MAX_SLOTS],
    pub(crate) n_slots: usize,
    pub(crate) accumulator: &'a mut [f32],
    pub(crate) ema: &'a mut [f32],
}

impl<'a> VarPieces<'a> {
    /// Splits every buffer at `mid` (those as long as the values; the others stay empty).
    fn split_at(self, mid: usize) -> (VarPieces<'a>, VarPieces<'a>) {
        let len = self.value.len();
        let split = |b: &'a mut [f32]| -> (&'a mut [f32], &'a mut [f32]) {
            if b.len() == len {
                b.split_at_mut(mid)
            } else {
                (&mut [], &mut [])
            }
        };
        let (value_a, value_b) = self.value.split_at_mut(mid);
        let (grad_a, grad_b) = self.grad.split_at_mut(mid);
        let mut slots_a: [&mut [f32]; MAX_SLOTS] = Default::default();
        let mut slots_b: [&mut [f32]; MAX_SLOTS] = Default::default();
        for ((slot, a), b) in self.slots.into_iter().zip(&mut slots_a).zip(&mut slots_b) {
            (*a, *b) = split(slot);
        }
        let (acc_a, acc_b) = split(self.accumulator);
        let (ema_a, ema_b) = split(self.ema);
        (
            VarPieces {
                value: value_a,
                grad: grad_a,
                slots: slots_a,
                n_slots: self.n_slots,
                accumulator: acc_a,
                ema: ema_a,
            },
            VarPieces {
                value: value_b,
                grad: grad_b,
                slots: slots_b,
                n_slots: self.n_slots,
                accumulator: acc_b,
                ema: ema_b,
            },
        )
    }
}

/// Runs the stages and `update(value, grad, slots)` over a variable's buffers piece by piece, in
/// Keras's order: the loss scale's undo, accumulation (a call that only accumulates stops there), the norm clip's
/// `scale` (computed from the whole gradient beforehand) or `clipvalue`, weight decay, the
/// update, the moving average; then zeroes the gradient. On rayon's threads for large
/// variables. `update` must treat every element on its own (an elementwise rule), so that pieces
/// give the bits of one call over the whole, as do the stages.
pub(crate) fn update_in_place<F>(
    var: VarPieces<'_>,
    stages: &Stages,
    scale: Option<GradScale>,
    update: &F,
) where
    F: Fn(&mut [f32], &[f32], &mut [&mut [f32]]) + Sync,
{
    let len = var.value.len();
    debug_assert_eq!(var.grad.len(), len);
    if len < PARALLEL_MIN_LEN || rayon::current_num_threads() < 2 {
        in_pieces(var, stages, scale, update);
        return;
    }
    // Halves at a multiple of 64 elements, so every block but the last keeps whole vectors.
    let mid = (len / 2).next_multiple_of(64).min(len);
    let (a, b) = var.split_at(mid);
    rayon::join(
        || update_in_place(a, stages, scale, update),
        || update_in_place(b, stages, scale, update),
    );
}

fn in_pieces<F>(mut var: VarPieces<'_>, stages: &Stages, scale: Option<GradScale>, update: &F)
where
    F: Fn(&mut [f32], &[f32], &mut [&mut [f32]]),
{
    let len = var.value.len();
    let n = var.n_slots.min(MAX_SLOTS);
    for first in (0..len).step_by(PIECE) {
        let piece = first..(first + PIECE).min(len);
        let mut slots: [&mut [f32]; MAX_SLOTS] = Default::default();
        for (to, slot) in slots.iter_mut().zip(var.slots.iter_mut()) {
            *to = part(slot, len, piece.clone());
        }
        let pieces = VarPieces {
            value: &mut var.value[piece.clone()],
            grad: &mut var.grad[piece.clone()],
            slots,
            n_slots: n,
            accumulator: part(var.accumulator, len, piece.clone()),
            ema: part(var.ema, len, piece),
        };
        update_whole(pieces, stages, scale, update);
    }
}

/// `piece` of `buffer` when it is as long as the variable (`len`); else empty.
fn part(buffer: &mut [f32], len: usize, piece: std::ops::Range<usize>) -> &mut [f32] {
    if buffer.len() == len {
        &mut buffer[piece]
    } else {
        &mut []
    }
}

/// Runs the stages and `update(value, grad, slots)` over a variable's whole buffers at once, in
/// [`update_in_place`]'s order, then zeroes the gradient: for a rule that is not elementwise
/// (Lamb's trust ratio, Adafactor's row and column means), whose `update` sees the whole
/// variable, as on the host; each slot is passed as it is (of any length).
pub(crate) fn update_whole<F>(
    var: VarPieces<'_>,
    stages: &Stages,
    scale: Option<GradScale>,
    update: &F,
) where
    F: Fn(&mut [f32], &[f32], &mut [&mut [f32]]),
{
    let VarPieces {
        value,
        grad,
        mut slots,
        n_slots,
        accumulator,
        ema,
    } = var;
    if let Some(s) = stages.unscale {
        unscale(grad, s);
    }
    if let Some(a) = stages.accumulate {
        a.apply(grad, accumulator);
    }
    if stages.updates() {
        if let Some(scale) = scale {
            scale.apply(grad);
        }
        if let Some(c) = stages.clip_value {
            clip_value(grad, c);
        }
        if let Some(d) = stages.decay {
            d.apply(value);
        }
        update(value, grad, &mut slots[..n_slots.min(MAX_SLOTS)]);
    }
    if let Some(e) = stages.ema {
        e.apply(value, ema);
    }
    grad.fill(0.0);
}

#[cfg(test)]
mod tests {
    use super::{update_in_place, VarPieces, PARALLEL_MIN_LEN};
    use crate::kernels::update::{Accumulate, Decay, Ema, Stages};

    fn momentum_rule(w: &mut [f32], g: &[f32], slots: &mut [&mut [f32]]) {
        let m = &mut slots[0];
        for ((w, &g), m) in w.iter_mut().zip(g).zip(m.iter_mut()) {
            *m = *m * 0.9 - g * 0.1;
            *w += *m;
        }
    }

    /// The stages over whole buffers, one after the other, as the host optimizer runs them.
    fn by_hand(
        stages: &Stages,
        w: &mut [f32],
        g: &mut [f32],
        m: &mut [f32],
        acc: &mut [f32],
        ema: &mut [f32],
    ) {
        if let Some(a) = stages.accumulate {
            for (g, acc) in g.iter_mut().zip(acc.iter_mut()) {
                if a.update {
                    *g = (*g + *acc) / a.steps;
                    *acc = 0.0;
                } else {
                    *acc += *g;
                }
            }
        }
        if stages.updates() {
            if let Some(c) = stages.clip_value {
                for x in g.iter_mut() {
                    *x = x.clamp(-c, c);
                }
            }
            if let Some(d) = stages.decay {
                d.apply(w);
            }
            momentum_rule(w, g, &mut [m]);
        }
        if let Some(e) = stages.ema {
            for (avg, &x) in ema.iter_mut().zip(w.iter()) {
                *avg = e.momentum * *avg + e.rest * x;
            }
            if e.overwrite {
                w.copy_from_slice(ema);
            }
        }
        g.fill(0.0);
    }

    #[test]
    fn pieces_and_threads_give_the_bits_of_whole_passes_and_zero_the_gradient() {
        let n = PARALLEL_MIN_LEN * 2 + 77;
        let init: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let grad: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos() * 3.0).collect();
        let decay = Decay {
            weight_decay: 0.01,
            learning_rate: 0.1,
        };
        let ema = Ema {
            momentum: 0.75,
            rest: 0.25,
            overwrite: true,
        };
        for stages in [
            Stages::default(),
            Stages {
                decay: Some(decay),
                clip_value: Some(0.5),
                ema: Some(ema),
                ..Stages::default()
            },
            Stages {
                accumulate: Some(Accumulate {
                    steps: 2.0,
                    update: false,
                }),
                ema: Some(Ema {
                    overwrite: false,
                    ..ema
                }),
                ..Stages::default()
            },
            Stages {
                accumulate: Some(Accumulate {
                    steps: 2.0,
                    update: true,
                }),
                decay: Some(decay),
                ..Stages::default()
            },
        ] {
            let (mut w1, mut g1, mut m1) = (init.clone(), grad.clone(), vec![0.5f32; n]);
            let (mut acc1, mut ema1) = (vec![0.25f32; n], init.clone());
            let (mut w2, mut g2, mut m2) = (init.clone(), grad.clone(), vec![0.5f32; n]);
            let (mut acc2, mut ema2) = (acc1.clone(), ema1.clone());
            let var = VarPieces {
                value: &mut w1,
                grad: &mut g1,
                slots: [&mut m1[..], &mut [], &mut [], &mut []],
                n_slots: 1,
                accumulator: if stages.accumulate.is_some() {
                    &mut acc1[..]
                } else {
                    &mut []
                },
                ema: if stages.ema.is_some() {
                    &mut ema1[..]
                } else {
                    &mut []
                },
            };
            crate::kernels::in_pool(2, || update_in_place(var, &stages, None, &momentum_rule));
            by_hand(&stages, &mut w2, &mut g2, &mut m2, &mut acc2, &mut ema2);
            assert_eq!(w1, w2, "{stages:?}");
            assert_eq!(m1, m2);
            assert_eq!(acc1, acc2);
            assert_eq!(ema1, ema2);
            assert!(g1.iter().all(|g| *g == 0.0), "the gradient is zeroed");
        }
    }
}
