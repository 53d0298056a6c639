//! Keras's `MaxPooling2D` layer (channels-last, `"valid"`).

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Axis, Const, Dim, Dtype, HasShape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{Device, MaxTo, ReshapeTo};

use super::windows::{gather_windows, WindowSize};

/// Keras's `MaxPooling2D(pool_size=K, strides=S)` with `padding="valid"` on channels-last
/// images: `(batch, H, W, C)` → `(batch, OH, OW, C)`, the maximum of each `K x K` window.
///
/// `S` defaults to `K`, as Keras's `strides=None`. `H`, `W`, `C` come from the input type and
/// `OH == (H - K) / S + 1` (and the same for `OW`) is checked when the forward is compiled. When
/// several elements of a window tie for the maximum, dfdx gives each of them the gradient (Keras
/// on JAX picks one); with real-valued data ties are rare. No tensors.
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

impl<const K: usize, const OH: usize, const OW: usize, const S: usize> NonMutableModule
    for MaxPool2D<K, OH, OW, S>
{
}

impl<const K: usize, const OH: usize, const OW: usize, const S: usize, E: Dtype, D: Device<E>>
    BuildOnDevice<D, E> for MaxPool2D<K, OH, OW, S>
{
    type Built = Self;
}

impl<const K: usize, const OH: usize, const OW: usize, const S: usize, E: Dtype, D: Device<E>>
    TensorCollection<E, D> for MaxPool2D<K, OH, OW, S>
{
    type To<E2: Dtype, D2: Device<E2>> = Self;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields((), |_| Default::default())
    }
}

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
        D: Device<E>,
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
        let batch = x.shape().0;
        gather_windows::<B, H, W, C, K, S, 0, OH, OW, E, D, T>(x)?
            .try_reshape_like(&(batch, Const::<OH>, Const::<OW>, K * K, Const::<C>))?
            .try_max::<_, Axis<3>>()
    }
}

#[cfg(test)]
mod tests {
    use super::MaxPool2D;
    use dfdx::prelude::*;

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
