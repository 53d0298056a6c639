//! Keras's `AveragePooling2D` layer (channels-last, `"valid"`).

use dfdx::nn::Module;
use dfdx::shapes::{Const, Dim, Dtype};
use dfdx::tensor::{Tape, Tensor};

use crate::kernels::windows::WindowSize;
use crate::kernels::ConvKernel;

/// Keras's `AveragePooling2D(pool_size=K, strides=S)` with `padding="valid"` on channels-last
/// images: `(batch, H, W, C)` → `(batch, OH, OW, C)`, the mean of each `K x K` window.
///
/// `S` defaults to `K`, as Keras's `strides=None`; `OH == (H - K) / S + 1` (and the same for
/// `OW`) is checked when the forward is compiled. No tensors.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::AvgPool2D;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>, Const<2>, Const<1>), f32, _> =
///     dev.tensor_from_vec(vec![1.0, 5.0, 3.0, 3.0], (1, Const, Const, Const));
/// let y = AvgPool2D::<2, 1, 1>.forward(x);
/// assert_eq!(y.as_vec(), vec![3.0]);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct AvgPool2D<const K: usize, const OH: usize, const OW: usize, const S: usize = K>;

/// Keras's name for [`AvgPool2D`].
///
/// # Examples
/// ```
/// use keras_core::layers::{AveragePooling2D, AvgPool2D};
///
/// let _same: AvgPool2D<2, 4, 4> = AveragePooling2D::<2, 4, 4>::default();
/// ```
pub type AveragePooling2D<const K: usize, const OH: usize, const OW: usize, const S: usize = K> =
    AvgPool2D<K, OH, OW, S>;

/// The impls of a Keras 2D pooling layer `$name<K, OH, OW, S>` (channels-last, `"valid"`, no
/// tensors) other than its forward: shared by [`AvgPool2D`] and
/// [`MaxPool2D`](super::MaxPool2D).
macro_rules! pool2d_layer {
    ($name:ident) => {
        const _: () = {
            use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
            use dfdx::nn::{BuildOnDevice, NonMutableModule};
            use dfdx::shapes::Dtype;
            use dfdx::tensor_ops::Device;

            impl<const K: usize, const OH: usize, const OW: usize, const S: usize> NonMutableModule
                for $name<K, OH, OW, S>
            {
            }

            impl<
                    const K: usize,
                    const OH: usize,
                    const OW: usize,
                    const S: usize,
                    E: Dtype,
                    D: Device<E>,
                > BuildOnDevice<D, E> for $name<K, OH, OW, S>
            {
                type Built = Self;
            }

            impl<
                    const K: usize,
                    const OH: usize,
                    const OW: usize,
                    const S: usize,
                    E: Dtype,
                    D: Device<E>,
                > TensorCollection<E, D> for $name<K, OH, OW, S>
            {
                type To<E2: Dtype, D2: Device<E2>> = Self;

                fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
                    visitor: &mut V,
                ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
                    visitor.visit_fields((), |_| Default::default())
                }
            }
        };
    };
}

pub(super) use pool2d_layer;

pool2d_layer!(AvgPool2D);

/// The forward is the device's average pooling ([`ConvKernel::try_avg_pool2d`]: one op on `Cpu`
/// and `Cuda` in `f32`, dfdx's ops over gathered windows in `f64`); a NaN in a window makes its
/// mean NaN, as Keras's.
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
    > Module<Tensor<(B, Const<H>, Const<W>, Const<C>), E, D, T>> for AvgPool2D<K, OH, OW, S>
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
        D::try_avg_pool2d::<B, H, W, C, K, S, OH, OW, T>(x)
    }
}

#[cfg(test)]
mod tests {
    use super::AvgPool2D;
    use dfdx::prelude::*;

    #[test]
    fn avg_pool_with_stride_one_averages_overlapping_windows() {
        let dev = Cpu::default();
        let x: Tensor<(usize, Const<3>, Const<1>, Const<1>), f64, _> =
            dev.tensor_from_vec(vec![1.0, 2.0, 4.0], (1, Const, Const, Const));
        // 2x1 windows are impossible with a square kernel; use a 1x1 kernel with stride 2
        let y = AvgPool2D::<1, 2, 1, 2>.forward(x);
        assert_eq!(y.as_vec(), vec![1.0, 4.0]);
        let x: Tensor<(usize, Const<3>, Const<3>, Const<1>), f64, _> =
            dev.tensor_from_vec((1..=9).map(f64::from).collect(), (1, Const, Const, Const));
        let y = AvgPool2D::<2, 2, 2, 1>.forward(x);
        assert_eq!(y.as_vec(), vec![3.0, 4.0, 6.0, 7.0]);
    }
}
