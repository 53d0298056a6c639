//! Marks the batch a trainer feeds its model as data: the fused `Dense` op does not compute the
//! gradient with respect to it (nobody reads it), which saves a third of the first layer's
//! backward work. Keras's JAX trainer likewise differentiates with respect to the weights only.

use std::cell::Cell;

use dfdx::shapes::Shape;
use dfdx::tensor::{Cpu, NoneTape, Storage, Tensor};

use super::cpu_view::contiguous;
use super::dense_kernel::{is_cpu_f32, same_type};

thread_local! {
    /// Address and length of the marked batch's buffer on this thread; `(0, 0)` for none.
    static DATA_INPUT: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// While alive, marks a batch as data for the fused `Dense` ops run on this thread. Dropping it
/// removes the mark (restoring any outer one). Created by [`mark_data_input`].
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::{mark_data_input, DataInput};
///
/// let dev = Cpu::default();
/// let x: Tensor<Rank2<2, 3>, f32, _> = dev.zeros();
/// let mark: DataInput<Rank2<2, 3>> = mark_data_input(&x);
/// drop(mark); // the batch is no longer marked
/// ```
#[must_use = "the mark lasts as long as the guard"]
#[derive(Debug)]
pub struct DataInput<S: Shape> {
    /// A handle on the batch's buffer: while it lives the address cannot be reused by another
    /// tensor, and no op can write the buffer in place.
    _pinned: Option<Tensor<S, f32, Cpu, NoneTape>>,
    previous: (usize, usize),
}

/// Marks `x` (the input batch of a training step, whose gradient nobody reads) as data, so the
/// fused `Dense` ops fed by it skip the product `g · kernelᵀ`. Only `Cpu` tensors are marked;
/// on other devices this does nothing.
///
/// Use it around the training forward only, for a batch that is not itself a trainable tensor.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::mark_data_input;
/// use keras_core::layers::Dense;
///
/// let dev = Cpu::default();
/// let model = dev.build_module::<Dense<3, 2>, f32>();
/// let mut grads = model.alloc_grads();
/// let x: Tensor<(usize, Const<3>), f32, _> = dev.ones_like(&(4, Const));
/// let x = x.traced(grads);
/// let mark = mark_data_input(&x);
/// let y = model.forward(x);
/// drop(mark);
/// grads = y.sum().backward();
/// assert_eq!(grads.get(&model.bias).array(), [4.0, 4.0]);
/// ```
pub fn mark_data_input<S: Shape, D: Storage<f32> + 'static, T>(
    x: &Tensor<S, f32, D, T>,
) -> DataInput<S> {
    let pinned = as_cpu(x).map(|x| x.retaped::<NoneTape>());
    let mark = pinned
        .as_ref()
        .and_then(contiguous)
        .map_or((0, 0), |s| (s.as_ptr() as usize, s.len()));
    let previous = DATA_INPUT.with(|m| m.replace(mark));
    DataInput {
        _pinned: pinned,
        previous,
    }
}

impl<S: Shape> Drop for DataInput<S> {
    fn drop(&mut self) {
        DATA_INPUT.with(|m| m.set(self.previous));
    }
}

/// Whether `data` is the buffer of the batch marked on this thread.
pub(crate) fn is_data_input(data: &[f32]) -> bool {
    let mark = DATA_INPUT.with(Cell::get);
    mark.1 != 0 && mark == (data.as_ptr() as usize, data.len())
}

/// `x` as a `Cpu` tensor when `D` is `Cpu`.
fn as_cpu<S: Shape, D: Storage<f32> + 'static, T>(
    x: &Tensor<S, f32, D, T>,
) -> Option<&Tensor<S, f32, Cpu, T>> {
    // SAFETY: `D` is `Cpu` when `is_cpu_f32` holds, so the cast renames a type to itself.
    is_cpu_f32::<f32, D>().then(|| unsafe { same_type(x) })
}
