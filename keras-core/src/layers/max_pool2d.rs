//! Keras's `MaxPooling2D` layer (channels-last, `"valid"`).

use dfdx::nn::Module;
use dfdx::shapes::{Const, Dim, Dtype};
use dfdx::tensor::{Tape, Tensor};

use super::avg_pool2d::pool2d_layer;
use crate::kernels::windows::WindowSize;
use crate::kernels::ConvKernel;

/// Keras's `MaxPooling2D(pool_size=K, strides=S)` with `padding="valid"` on channels-last
/// images: `(batch, H, W, C)` → `(batch, OH, OW, C)`, the maximum of each `K x K` window.
///
/// `S` defaults to `K`, as Keras's `strides=None`. `H`, `W`, `C` come from the input type and
/// `OH == (H - K) / S + 1` (and the same for `OW`) is checked when the forward is compiled. The
/// forward is the device's [`ConvKernel::try_max_pool2d`]: on `Cpu` in `f32` one op that reads
/// each window once; when several elements of a window tie for the maximum, the first gets the
/// gradient (Keras on JAX also picks one), and a window holding a NaN pools to NaN, as Keras's.
/// Elsewhere (`f64`, `Cuda`) dfdx's ops, which give each tied element the gradient and pool a
/// window holding an infinity to NaN. No tensors.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::MaxPool2D;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>, Const<2>, Const<1>), f32, _> =
///     dev.tensor_from_vec(vec![1.0, 5.0, 3.0, 2.0], (1, Const, Const, Const));
/// let y = MaxPool2D::<2, 1, 1>.forward(x);
/// assert_eq!(y.as_vec(), vec![5.0]);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MaxPool2D<const K: usize, const OH: usize, const OW: usize, const S: usize = K>;

/// Keras's name for [`MaxPool2D`].
///
/// # Examples
/// ```
/// use keras_core::layers::{MaxPool2D, MaxPooling2D};
///
/// let _same: MaxPool2D<2, 4, 4> = MaxPooling2D::<2, 4, 4>::default();
/// ```
pub type MaxPooling2D<const K: usize, const OH: usize, const OW: usize, const S: usize = K> =
    MaxPool2D<K, OH, OW, S>;

pool2d_layer!(MaxPool2D);

/// The forward is the device's [`ConvKernel::try_max_pool2d`].
impl<
        B: Dim,
        const H: usize,
        const W: usize,
        const C: usize,
        const K: usize,
        const OH: usize,
        const OW: usize,
        const S: usize,
        E: Dtype,
        D: ConvKernel<E>,
        T: Tape<E, D>,
    > Module<Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>> for MaxPool2D<K, OH, OW, S>
{
    type Output = Tensor<(B, Const<OH>, Const<OW>, Const<C>), E, D, T>;
    type Error = D::Err;

    fn try_forward(
        &self,
        x: Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>,
    ) -> Result<Self::Output, D::Err> {
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<H, K, S, 0, OH>::CHECK;
        #[allow(clippy::let_unit_value)]
        let () = WindowSize::<W, K, S, 0, OW>::CHECK;
        D::try_max_pool2d::<B, H, W, C, K, S, OH, OW, T>(x)
    }
}

#[cfg(test)]
mod tests {
    use super::MaxPool2D;
    use dfdx::prelude::*;

    #[test]
    fn a_nan_in_a_window_pools_to_nan_and_leaves_the_other_windows_and_gradients_alone() {
        let dev = Cpu::default();
        let mut data: Vec<f32> = (0..16).map(|v| v as f32).collect();
        data[0] = f32::NAN;
        let x: Tensor<(usize, Const<4>, Const<4>, Const<1>), f32, _> =
            dev.tensor_from_vec(data, (1, Const, Const, Const));
        let y = MaxPool2D::<2, 2, 2>.forward(x.leaky_trace());
        let values = y.as_vec();
        assert!(values[0].is_nan());
        assert_eq!(&values[1..], [7.0, 13.0, 15.0]);
        let grads = y.sum().backward();
        let g = grads.get(&x).as_vec();
        assert_eq!((g[7], g[13], g[15]), (1.0, 1.0, 1.0));
    }

    #[test]
    fn max_pool_takes_each_window_maximum_per_channel() {
        let dev = Cpu::default();
        let data: Vec<f32> = (0..32).map(|v| ((v * 5) % 13) as f32).collect();
        let x: Tensor<(usize, Const<4>, Const<4>, Const<2>), f32, _> =
            dev.tensor_from_vec(data.clone(), (1, Const, Const, Const));
        let y = MaxPool2D::<2, 2, 2>.forward(x).as_vec();
        for oy in 0..2 {
            for ox in 0..2 {
                for c in 0..2 {
                    let mut m = f32::MIN;
                    for ky in 0..2 {
                        for kx in 0..2 {
                            m = m.max(data[((oy * 2 + ky) * 4 + ox * 2 + kx) * 2 + c]);
                        }
                    }
                    assert_eq!(y[(oy * 2 + ox) * 2 + c], m);
                }
            }
        }
    }
}
