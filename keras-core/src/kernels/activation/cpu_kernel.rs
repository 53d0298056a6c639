//! The activations on `Cpu`, in `f32` and `f64`: one op on dfdx's tape (`math.rs`'s
//! arithmetic, values on rayon's threads).

use dfdx::shapes::{HasShape, Shape};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};
use rayon::prelude::*;

use super::math::{ActivationFloat, Form};
use super::{activation_with_ops, Activation, ActivationKernel};
use crate::kernels::dense::is_data_input;

/// Values per block of work.
const BLOCK: usize = 1 << 14;

/// `impl ActivationKernel<$e> for Cpu` by the fused op, for each listed dtype. A view that is
/// not row-major and an empty tensor go to dfdx's ops. No input gradient for a batch marked
/// with [`mark_data_input`](crate::kernels::mark_data_input).
macro_rules! cpu_activation_kernel {
    ($($e:ty),+) => {$(
        impl ActivationKernel<$e> for Cpu {
            fn try_activation<S: Shape, T: Tape<$e, Self>>(
                x: Tensor<S, $e, Self, T>,
                f: Activation,
            ) -> Result<Tensor<S, $e, Self, T>, CpuError> {
                let shape = *x.shape();
                if !x.is_row_major() || shape.num_elements() == 0 {
                    return activation_with_ops(x, f);
                }
                let form = Form::<$e>::of(f);
                // From dfdx's allocator, so its cache stays balanced.
                let mut out: Tensor<S, $e, Cpu> = x.device().try_zeros_like(&shape)?;
                values(form, x.storage(), out.storage_mut());
                let (x, mut tape) = x.split_tape();
                if T::OWNS_TAPE {
                    let out = out.clone();
                    tape.add_backward_op(move |grads: &mut Gradients<$e, Cpu>| {
                        // The data batch (marked in the gradients its tape carries) gets no
                        // gradient.
                        if is_data_input(grads, &x) {
                            return Ok(());
                        }
                        // Borrow the output's gradient by moving it out, so the input's can be
                        // borrowed mutably.
                        let g = std::mem::take(&mut **grads.get_or_alloc_mut(&out)?);
                        add_gradient(form, x.storage(), &g, grads.get_or_alloc_mut(&x)?);
                        **grads.get_or_alloc_mut(&out)? = g;
                        Ok(())
                    });
                }
                Ok(out.put_tape(tape))
            }
        }
    )+};
}

cpu_activation_kernel!(f32, f64);

/// `y = f(x)`, value by value, blocks on rayon's threads.
fn values<F: ActivationFloat>(form: Form<F>, x: &[F], y: &mut [F]) {
    y.par_chunks_mut(BLOCK)
        .zip(x.par_chunks(BLOCK))
        .for_each(|(y, x)| {
            for (y, &x) in y.iter_mut().zip(x) {
                *y = form.value(x);
            }
        });
}

/// `gx += f'(x) · g`, value by value, blocks on rayon's threads.
fn add_gradient<F: ActivationFloat>(form: Form<F>, x: &[F], g: &[F], gx: &mut [F]) {
    gx.par_chunks_mut(BLOCK)
        .zip(g.par_chunks(BLOCK))
        .zip(x.par_chunks(BLOCK))
        .for_each(|((gx, g), x)| {
            for ((to, &g), &x) in gx.iter_mut().zip(g).zip(x) {
                *to = *to + form.derivative(x) * g;
            }
        });
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use crate::kernels::activation::{activation_with_ops, try_activation, Activation, EVERY_FORM};
    use crate::kernels::hashed_values::hashed_values;

    /// Values in [-6, 6), and the kinks and edges.
    fn values(len: usize) -> Vec<f32> {
        let mut v = hashed_values(len, 0, -6.0, 6.0);
        v[..6].copy_from_slice(&[0.0, -0.0, 1e-30, -1e-30, 30.0, -30.0]);
        v
    }

    #[test]
    fn the_fused_op_agrees_with_dfdx_ops_and_the_f64_formulas_forward_and_backward() {
        let dev = Cpu::default();
        // Over several blocks of work.
        let n = 40_000;
        let xs = values(n);
        let x: Tensor<(usize,), f32, _> = dev.tensor_from_vec(xs.clone(), (n,));
        let x64: Tensor<(usize,), f64, _> =
            dev.tensor_from_vec(xs.iter().map(|&v| f64::from(v)).collect(), (n,));
        let w: Vec<f32> = values(n + 7)[7..].to_vec();
        let w_t: Tensor<(usize,), f32, _> = dev.tensor_from_vec(w.clone(), (n,));
        for f in EVERY_FORM {
            let run = |fused: bool| {
                let y = match fused {
                    true => try_activation(x.leaky_trace(), f),
                    false => activation_with_ops(x.leaky_trace(), f),
                };
                let y = y.unwrap();
                let values = y.retaped::<NoneTape>().as_vec();
                let grads = (y * w_t.clone()).sum().backward();
                (values, grads.get(&x).as_vec())
            };
            let ((y, gx), (y_ops, gx_ops)) = (run(true), run(false));
            // The f64 op (the same code in f64), the reference.
            let y64 = try_activation(x64.leaky_trace(), f).unwrap();
            let want = y64.retaped::<NoneTape>().as_vec();
            let w64: Tensor<(usize,), f64, _> =
                dev.tensor_from_vec(w.iter().map(|&v| f64::from(v)).collect(), (n,));
            let want_g = (y64 * w64).sum().backward().get(&x64).as_vec();
            for i in 0..n {
                // A few `f32` roundings of the result, and of 1 where the formula subtracts
                // (`1 + erf` for large negative `x`, Swish's derivative near its zero).
                let close = |a: f32, b: f64, scale: f64| {
                    (f64::from(a) - b).abs() <= 8.0 * f64::from(f32::EPSILON) * (b.abs() + scale)
                };
                let wi = f64::from(w[i]).abs();
                assert!(
                    close(y[i], want[i], 1.0),
                    "{f:?}({}) = {} vs {}",
                    xs[i],
                    y[i],
                    want[i]
                );
                assert!(
                    close(gx[i], want_g[i], wi),
                    "{f:?}'({}): {} vs {}",
                    xs[i],
                    gx[i],
                    want_g[i]
                );
                // dfdx's chains round differently (ELU's exp - 1 near 0 most of all).
                let tol = |v: f64| 1e-5 * (1.0 + v.abs());
                assert!(
                    (f64::from(y_ops[i]) - want[i]).abs() <= tol(want[i]),
                    "{f:?} ops at {}",
                    xs[i]
                );
                assert!(
                    (f64::from(gx_ops[i]) - want_g[i]).abs() <= tol(want_g[i]),
                    "{f:?}' ops at {}",
                    xs[i]
                );
            }
        }
    }

    #[test]
    fn the_kinks_take_kerass_side() {
        let dev = Cpu::default();
        let x = dev.tensor([0.0f32, -2.0, 2.0]);
        let grad_at = |f: Activation| {
            let y = try_activation(x.leaky_trace(), f).unwrap();
            y.sum().backward().get(&x).array()
        };
        // ELU: `where(x > 0, ...)`: the negative side's `alpha · exp(0)` at 0.
        assert_eq!(grad_at(Activation::Elu { alpha: 0.5 })[0], 0.5);
        // LeakyReLU: `where(x >= 0, ...)`: slope 1 at 0.
        let leaky = grad_at(Activation::LeakyRelu {
            negative_slope: 0.1,
        });
        assert_eq!(leaky, [1.0, 0.1, 1.0]);
        assert_eq!(grad_at(Activation::Softplus)[0], 0.5);
        assert_eq!(grad_at(Activation::Swish)[0], 0.5);
        assert_eq!(grad_at(Activation::Gelu)[0], 0.5);
    }

    #[test]
    fn a_broadcast_view_goes_to_dfdx_ops_and_an_empty_tensor_is_empty() {
        let dev = Cpu::default();
        let row: Tensor<Rank1<2>, f32, _> = dev.tensor([-1.0, 2.0]);
        let x = row
            .leaky_trace()
            .broadcast_like::<_, Axis<0>>(&(3usize, Const::<2>));
        let f = Activation::LeakyRelu {
            negative_slope: 0.5,
        };
        let y = try_activation(x, f).unwrap();
        assert_eq!(
            y.retaped::<NoneTape>().as_vec(),
            [-0.5, 2.0, -0.5, 2.0, -0.5, 2.0]
        );
        let grads = y.sum().backward();
        assert_eq!(grads.get(&row).as_vec(), [1.5, 3.0]);
        let empty: Tensor<(usize,), f32, _> = dev.zeros_like(&(0,));
        assert_eq!(
            try_activation(empty, Activation::Gelu).unwrap().shape().0,
            0
        );
    }
}
