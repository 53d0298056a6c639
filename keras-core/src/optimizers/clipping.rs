//! Gradient clipping, Keras's way (`BaseOptimizer._clip_gradients`).

use super::VarInfo;
use crate::kernels::update::{clip_value, sum_squares};
use crate::kernels::NormClip;

/// The clipping option in effect (at most one, as Keras requires).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Clipping {
    /// No clipping.
    None,
    /// `clipnorm`: each variable's gradient to an L2 norm of at most `c`.
    Norm(f64),
    /// `global_clipnorm`: all gradients to a joint L2 norm of at most `c`.
    GlobalNorm(f64),
    /// `clipvalue`: every element into `[-c, c]`.
    Value(f64),
}

impl Clipping {
    /// The norm clip of `clipnorm` / `global_clipnorm`, as the device kernels take it.
    pub(crate) fn norm_clip(&self) -> Option<NormClip> {
        let (global, c) = match *self {
            Clipping::Norm(c) => (false, c),
            Clipping::GlobalNorm(c) => (true, c),
            _ => return None,
        };
        Some(NormClip {
            global,
            clip: c as f32,
            inv_clip: (1.0 / c) as f32,
        })
    }

    /// Clips the gradients of the variables that have one, in place (the arithmetic of the
    /// device kernels: [`NormClip::scale`], [`clip_value`]).
    pub(crate) fn apply(&self, grads: &mut [f32], vars: &[VarInfo]) {
        let present = || vars.iter().filter(|v| v.has_grad);
        if let Clipping::Value(c) = *self {
            for v in present() {
                clip_value(&mut grads[v.range()], c as f32);
            }
            return;
        }
        let Some(clip) = self.norm_clip() else {
            return;
        };
        if clip.global {
            let total: f64 = present().map(|v| sum_squares(&grads[v.range()])).sum();
            let scale = clip.scale(total);
            for v in present() {
                scale.apply(&mut grads[v.range()]);
            }
        } else {
            for v in present() {
                let g = &mut grads[v.range()];
                clip.scale(sum_squares(g)).apply(g);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optimizers::FlatParams;

    fn two_vars() -> FlatParams {
        let mut p = FlatParams::from_layout([("a", &[2][..]), ("b", &[1][..])]);
        p.grads.copy_from_slice(&[3.0, 4.0, 12.0]);
        p
    }

    #[test]
    fn clipnorm_scales_each_variable_to_the_bound() {
        let mut p = two_vars();
        Clipping::Norm(1.0).apply(&mut p.grads, &p.vars);
        assert_eq!(p.grads, [0.6, 0.8, 1.0]);
    }

    #[test]
    fn global_clipnorm_uses_the_joint_norm() {
        let mut p = two_vars();
        Clipping::GlobalNorm(6.5).apply(&mut p.grads, &p.vars);
        // joint norm 13 -> everything halved
        assert_eq!(p.grads, [1.5, 2.0, 6.0]);
    }

    #[test]
    fn clipvalue_clamps_elements_and_leaves_small_ones() {
        let mut p = two_vars();
        Clipping::Value(3.5).apply(&mut p.grads, &p.vars);
        assert_eq!(p.grads, [3.0, 3.5, 3.5]);
    }

    #[test]
    fn variables_without_gradient_are_left_out() {
        let mut p = two_vars();
        p.set_has_grad(1, false);
        Clipping::GlobalNorm(2.5).apply(&mut p.grads, &p.vars);
        assert_eq!(p.grads, [1.5, 2.0, 12.0]);
    }
}
