//! Gradient clipping, Keras's way (`BaseOptimizer._clip_gradients`).

use super::VarInfo;

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

/// Sum of squares, accumulated in `f64` and rounded once.
pub(crate) fn sum_squares(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

impl Clipping {
    /// Clips the gradients of the variables that have one, in place.
    pub(crate) fn apply(&self, grads: &mut [f32], vars: &[VarInfo]) {
        match *self {
            Clipping::None => {}
            Clipping::Norm(c) => {
                let c = c as f32;
                for v in vars.iter().filter(|v| v.has_grad) {
                    let g = &mut grads[v.range()];
                    let l2sum = sum_squares(g) as f32;
                    let l2norm = if l2sum > 0.0 { l2sum.sqrt() } else { l2sum };
                    let denom = l2norm.max(c);
                    for x in g {
                        *x = *x * c / denom;
                    }
                }
            }
            Clipping::GlobalNorm(c) => {
                let total: f64 = vars
                    .iter()
                    .filter(|v| v.has_grad)
                    .map(|v| sum_squares(&grads[v.range()]))
                    .sum();
                let norm = (total as f32).sqrt();
                // Keras adds `norm - norm`: a no-op unless the norm is infinite or NaN.
                let scale = if norm.is_finite() {
                    c as f32 * (1.0 / norm).min((1.0 / c) as f32)
                } else {
                    f32::NAN
                };
                for v in vars.iter().filter(|v| v.has_grad) {
                    for x in &mut grads[v.range()] {
                        *x *= scale;
                    }
                }
            }
            Clipping::Value(c) => {
                let c = c as f32;
                for v in vars.iter().filter(|v| v.has_grad) {
                    for x in &mut grads[v.range()] {
                        if *x < -c {
                            *x = -c;
                        } else if *x > c {
                            *x = c;
                        }
                    }
                }
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
