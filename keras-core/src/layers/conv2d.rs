//! Keras's `Conv2D` layer (channels-last).

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection, TensorOptions};
use dfdx::nn::{BuildModule, BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Const, Dim, Dtype, Rank1, Rank4};
use dfdx::tensor::{Cpu, Storage, Tape, Tensor};
use dfdx::tensor_ops::Device;
use num_traits::Float;
use rand_distr::uniform::SampleUniform;

use super::activations::Linear;
use super::initializers::{glorot_uniform, zeros};
use super::weights::{check_len, copy_f32};
use crate::kernels::windows::WindowSize;
use crate::kernels::{ConvKernel, DenseActivation};
use crate::Result;

/// Keras's `Conv2D(filters=OUT, kernel_size=K, strides=S, activation=A)` on channels-last
/// images (Keras's default `data_format`): `(batch, H, W, IN)` → `(batch, OH, OW, OUT)`.
///
/// - Generic parameters: input channels `IN`, filters `OUT`, square kernel `K`, output height
///   and width `OH`, `OW`, stride `S` (default 1), symmetric zero padding `P` (default 0, Keras's
///   `padding="valid"`; `P = (K - 1) / 2` with `S = 1` and odd `K` is Keras's `"same"`), then the
///   activation, dtype and device. The input's `H` and `W` come from its type; when the forward
///   is compiled, `OH == (H + 2P - K) / S + 1` (and the same for `OW`) is checked, so a wrong
///   size fails `cargo build`.
/// - `kernel` is stored in **Keras's layout `[kh, kw, in, out]`** (`Rank4<K, K, IN, OUT>`), so
///   Keras's `get_weights()[0]` loads as it is; `bias` is `[OUT]`. Keras defaults:
///   `glorot_uniform` kernel (fans `K*K*IN`, `K*K*OUT`), zero bias. Cross-correlation, as Keras.
/// - The forward is the device's [`ConvKernel::try_conv2d`] with the activation's epilogue
///   ([`DenseActivation`]): on `Cpu` in `f32` one op whose windows are packed block by block
///   (im2col) straight into `gemm`'s products, bias and ReLU folded into their stores;
///   elsewhere the windows gathered with dfdx's ops and one product (dfdx 0.13's own
///   convolution needs a nightly compiler).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::{Conv2D, ReLU};
///
/// let dev = Cpu::seed_from_u64(0);
/// // 1 → 4 channels, 3x3 kernel, 5x5 → 3x3 ("valid")
/// let conv = dev.build_module::<Conv2D<1, 4, 3, 3, 3, 1, 0, ReLU>, f32>();
/// assert_eq!(conv.num_trainable_params(), 3 * 3 * 1 * 4 + 4);
/// let x: Tensor<(usize, Const<5>, Const<5>, Const<1>), f32, _> =
///     dev.sample_normal_like(&(2, Const, Const, Const));
/// let y = conv.forward(x);
/// assert_eq!(y.shape(), &(2, Const::<3>, Const::<3>, Const::<4>));
/// ```
///
/// An output size that does not follow from the input does not build:
/// ```compile_fail
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Conv2D;
///
/// let dev = Cpu::default();
/// let conv = dev.build_module::<Conv2D<1, 4, 3, 5, 5>, f32>(); // "valid" gives 3x3, not 5x5
/// let x: Tensor<(usize, Const<5>, Const<5>, Const<1>), f32, _> = dev.zeros_like(&(1, Const, Const, Const));
/// let _ = conv.forward(x);
/// ```
#[derive(Debug, Clone)]
pub struct Conv2D<
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const OH: usize,
    const OW: usize,
    const S: usize = 1,
    const P: usize = 0,
    A = Linear,
    E: Dtype = f32,
    D: Storage<E> = Cpu,
> {
    /// Filters in Keras layout `[kh, kw, in, out]`.
    pub kernel: Tensor<Rank4<K, K, IN, OUT>, E, D>,
    /// Bias `[out]`.
    pub bias: Tensor<Rank1<OUT>, E, D>,
    /// The activation applied after the convolution.
    pub activation: A,
}

impl<
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        A,
        E: Dtype,
        D: Device<E>,
    > Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>
{
    /// Loads Keras weights: `kernel` row-major `[kh, kw, in, out]` (Keras's `get_weights()[0]`,
    /// no transpose) and `bias` `[out]`; both lengths are checked before anything is written.
    pub fn set_weights(&mut self, kernel: &[f32], bias: &[f32]) -> Result<()> {
        let layout = format!("[kh, kw, in, out] = [{K}, {K}, {IN}, {OUT}]");
        check_len(&self.kernel, "kernel", &layout, kernel)?;
        check_len(&self.bias, "bias", &format!("[out] = [{OUT}]"), bias)?;
        copy_f32(&mut self.kernel, kernel);
        copy_f32(&mut self.bias, bias);
        Ok(())
    }
}

impl<
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        A,
        E: Dtype,
        D: Storage<E>,
    > NonMutableModule for Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>
{
}

impl<
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        A,
        E1: Dtype,
        D1: Storage<E1>,
        E: Dtype,
        D: Device<E>,
    > BuildOnDevice<D, E> for Conv2D<IN, OUT, K, OH, OW, S, P, A, E1, D1>
where
    Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>: BuildModule<D, E>,
{
    type Built = Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>;
}

impl<
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        A: Default,
        E: Dtype + Float + SampleUniform,
        D: Device<E>,
    > TensorCollection<E, D> for Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>
{
    type To<E2: Dtype, D2: Device<E2>> = Conv2D<IN, OUT, K, OH, OW, S, P, A, E2, D2>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields(
            (
                Self::tensor(
                    "kernel",
                    |s| &s.kernel,
                    |s| &mut s.kernel,
                    TensorOptions::reset_with(glorot_uniform),
                ),
                Self::tensor(
                    "bias",
                    |s| &s.bias,
                    |s| &mut s.bias,
                    TensorOptions::reset_with(zeros),
                ),
            ),
            |(kernel, bias)| Conv2D {
                kernel,
                bias,
                activation: A::default(),
            },
        )
    }
}

impl<
        B: Dim,
        const H: usize,
        const W: usize,
        const IN: usize,
        const OUT: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        const P: usize,
        A,
        E: Dtype,
        D: ConvKernel<E>,
        T: Tape<E, D>,
    > Module<Tensor<(B, Const<H>, Const<W>, Const<IN>), E, D, T>>
    for Conv2D<IN, OUT, K, OH, OW, S, P, A, E, D>
where
    A: DenseActivation<Tensor<(B, Const<OH>, Const<OW>, Const<OUT>), E, D, T>, Error = D::Err>,
{
    type Output = A::Output;
    type Error = D::Err;

    fn try_forward(
        &self,
        x: Tensor<(B, Const<H>, Const<W>, Const<IN>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<H, K, S, P, OH>::CHECK;
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<W, K, S, P, OW>::CHECK;
        let y = D::try_conv2d::<B, H, W, IN, OUT, K, S, P, OH, OW, T>(
            x,
            &self.kernel,
            &self.bias,
            A::EPILOGUE,
        )?;
        self.activation.try_after_dense(y)
    }
}

#[cfg(test)]
mod tests {
    use super::Conv2D;
    use dfdx::prelude::*;

    #[test]
    fn conv2d_matches_a_direct_cross_correlation() {
        let dev = Cpu::seed_from_u64(1);
        let mut conv = dev.build_module::<Conv2D<2, 3, 3, 2, 2, 2, 1>, f64>();
        let kernel: Vec<f32> = (0..54)
            .map(|i| ((i * 7) % 11) as f32 / 10.0 - 0.5)
            .collect();
        conv.set_weights(&kernel, &[0.1, -0.2, 0.3]).unwrap();
        let x: Tensor<(usize, Const<4>, Const<4>, Const<2>), f64, _> =
            dev.sample_normal_like(&(2, Const, Const, Const));
        let xv = x.as_vec();
        let y = conv.forward(x).as_vec();
        let bias = [0.1, -0.2, 0.3];
        for b in 0..2 {
            for oy in 0..2 {
                for ox in 0..2 {
                    for o in 0..3 {
                        let mut acc = bias[o];
                        for ky in 0..3 {
                            for kx in 0..3 {
                                let (iy, ix) =
                                    ((oy * 2 + ky) as isize - 1, (ox * 2 + kx) as isize - 1);
                                if !(0..4).contains(&iy) || !(0..4).contains(&ix) {
                                    continue;
                                }
                                for c in 0..2 {
                                    let xi = ((b * 4 + iy as usize) * 4 + ix as usize) * 2 + c;
                                    let ki = ((ky * 3 + kx) * 2 + c) * 3 + o;
                                    acc += xv[xi] * kernel[ki] as f64;
                                }
                            }
                        }
                        let got = y[((b * 2 + oy) * 2 + ox) * 3 + o];
                        assert!((got - acc).abs() < 1e-6, "{got} vs {acc}");
                    }
                }
            }
        }
    }

    #[test]
    fn conv2d_counts_parameters_as_keras() {
        let dev = Cpu::default();
        let conv = dev.build_module::<Conv2D<3, 16, 3, 26, 26>, f32>();
        assert_eq!(conv.num_trainable_params(), 3 * 3 * 3 * 16 + 16);
    }

    /// Output, then input, kernel and bias gradients of `sum(r * relu_conv(x))` in `$e`.
    macro_rules! relu_conv_and_grads {
        ($e:ty) => {{
            let dev = Cpu::seed_from_u64(3);
            let mut conv =
                dev.build_module::<Conv2D<2, 3, 3, 3, 3, 1, 1, crate::layers::ReLU>, $e>();
            let kernel: Vec<f32> = (0..54).map(|i| ((i * 5) % 13) as f32 / 13.0 - 0.5).collect();
            conv.set_weights(&kernel, &[0.05, -0.1, 0.2]).unwrap();
            let values = |len: usize, k: usize| -> Vec<$e> {
                (0..len)
                    .map(|i| (((i * k) % 17) as f64 / 17.0 - 0.45) as $e)
                    .collect()
            };
            let x: Tensor<(usize, Const<3>, Const<3>, Const<2>), $e, _> =
                dev.tensor_from_vec(values(2 * 18, 7), (2, Const, Const, Const));
            let r: Tensor<(usize, Const<3>, Const<3>, Const<3>), $e, _> =
                dev.tensor_from_vec(values(2 * 27, 11), (2, Const, Const, Const));
            let y = conv.forward(x.trace(Gradients::leaky()));
            let out = y.retaped::<NoneTape>().as_vec();
            let mut grads = (y * r).sum().backward();
            let to_f64 = |v: Vec<$e>| -> Vec<f64> { v.into_iter().map(f64::from).collect() };
            let gx = grads.get_or_alloc_mut(&x).unwrap().to_vec();
            [
                to_f64(out),
                to_f64(gx),
                to_f64(grads.get(&conv.kernel).as_vec()),
                to_f64(grads.get(&conv.bias).as_vec()),
            ]
        }};
    }

    #[test]
    fn the_fused_f32_path_matches_dfdx_ops_in_f64_in_value_and_every_gradient() {
        let fused = relu_conv_and_grads!(f32);
        let ops = relu_conv_and_grads!(f64);
        for (f, o) in fused.iter().zip(&ops) {
            assert_eq!(f.len(), o.len());
            for (a, b) in f.iter().zip(o) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
        assert!(
            fused[0].contains(&0.0),
            "some outputs are clipped by the ReLU"
        );
        assert!(fused[2].iter().any(|g| *g != 0.0));
    }
}
