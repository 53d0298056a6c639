//! Keras's `Flatten` layer.

use dfdx::nn::tensor_collection::{ModuleVisitor, TensorCollection};
use dfdx::nn::{BuildOnDevice, Module, NonMutableModule};
use dfdx::shapes::{Const, Dim, Dtype, HasShape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::{Device, ReshapeTo};

/// Keras's `Flatten`: `(batch, d1, d2, ...)` → `(batch, N)` in row-major order (for a
/// channels-last image `(batch, H, W, C)` that is Keras's `H, W, C` order, so a following
/// `Dense` loads Keras weights as they are).
///
/// Stable Rust cannot compute `d1 * d2 * ...` in a type, so the output width `N` is written out
/// and checked against the input when the forward is compiled: a wrong `N` fails `cargo build`
/// with `"Flatten<N>: N must equal the product of the input's non-batch dimensions"`. Accepts
/// inputs of rank 2 to 5 with `Const` feature dimensions and any batch dimension. No tensors.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Flatten;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>, Const<3>, Const<4>), f32, _> = dev.zeros_like(&(5, Const, Const, Const));
/// let y: Tensor<(usize, Const<24>), f32, _> = Flatten::<24>.forward(x);
/// assert_eq!(y.shape().0, 5);
/// ```
///
/// A width that does not match the input does not build:
/// ```compile_fail
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Flatten;
///
/// let dev = Cpu::default();
/// let x: Tensor<(usize, Const<2>, Const<3>), f32, _> = dev.zeros_like(&(5, Const, Const));
/// let _ = Flatten::<7>.forward(x);
/// ```
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Flatten<const N: usize>;

/// Compile-time check that `N` is the product of the flattened dimensions.
struct FlatWidth<const N: usize, const A: usize, const B: usize, const C: usize, const D: usize>;

impl<const N: usize, const A: usize, const B: usize, const C: usize, const D: usize>
    FlatWidth<N, A, B, C, D>
{
    const CHECK: () = assert!(
        N == A * B * C * D,
        "Flatten<N>: N must equal the product of the input's non-batch dimensions"
    );
}

impl<const N: usize> NonMutableModule for Flatten<N> {}

impl<const N: usize, E: Dtype, D: Device<E>> BuildOnDevice<D, E> for Flatten<N> {
    type Built = Flatten<N>;
}

impl<const N: usize, E: Dtype, D: Device<E>> TensorCollection<E, D> for Flatten<N> {
    type To<E2: Dtype, D2: Device<E2>> = Flatten<N>;

    fn iter_tensors<V: ModuleVisitor<Self, E, D>>(
        visitor: &mut V,
    ) -> Result<Option<Self::To<V::E2, V::D2>>, V::Err> {
        visitor.visit_fields((), |_| Default::default())
    }
}

/// `Module` for one input rank; the missing dims of the check are 1.
macro_rules! flatten_rank {
    ([$($d:ident),+], [$($check:tt),+]) => {
        impl<B: Dim, $(const $d: usize,)+ const N: usize, E: Dtype, D: Device<E>, T: Tape<E, D>>
            Module<Tensor<(B, $(Const<$d>,)+), E, D, T>> for Flatten<N>
        {
            type Output = Tensor<(B, Const<N>), E, D, T>;
            type Error = D::Err;

            fn try_forward(
                &self,
                x: Tensor<(B, $(Const<$d>,)+), E, D, T>,
            ) -> Result<Self::Output, D::Err> {
                #[allow(clippy::let_unit_value)]
                let () = FlatWidth::<N, $($check),+>::CHECK;
                let batch = x.shape().0;
                x.try_reshape_like(&(batch, Const::<N>))
            }
        }
    };
}

flatten_rank!([A1], [A1, 1, 1, 1]);
flatten_rank!([A1, A2], [A1, A2, 1, 1]);
flatten_rank!([A1, A2, A3], [A1, A2, A3, 1]);
flatten_rank!([A1, A2, A3, A4], [A1, A2, A3, A4]);

#[cfg(test)]
mod tests {
    use super::Flatten;
    use dfdx::prelude::*;

    #[test]
    fn flatten_keeps_row_major_order_and_batch() {
        let dev = Cpu::default();
        let data: Vec<f32> = (0..12).map(|v| v as f32).collect();
        let x: Tensor<(usize, Const<2>, Const<3>), f32, _> =
            dev.tensor_from_vec(data.clone(), (2, Const, Const));
        let y = Flatten::<6>.forward(x);
        assert_eq!(y.shape(), &(2, Const::<6>));
        assert_eq!(y.as_vec(), data);
    }

    #[test]
    fn flatten_copies_non_contiguous_inputs_in_logical_order() {
        let dev = Cpu::default();
        let x: Tensor<(usize, Const<2>, Const<2>), f32, _> =
            dev.tensor_from_vec(vec![1.0, 2.0, 3.0, 4.0], (1, Const, Const));
        let xt = x.permute::<_, Axes3<0, 2, 1>>();
        assert_eq!(Flatten::<4>.forward(xt).as_vec(), vec![1.0, 3.0, 2.0, 4.0]);
    }
}
