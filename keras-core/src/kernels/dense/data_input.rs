//! Marks the batch a trainer feeds its model as data: the fused `Dense` op does not compute the
//! gradient with respect to it (nobody reads it), which saves a third of the first layer's
//! backward work. Keras's JAX trainer likewise differentiates with respect to the weights only.
//!
//! The mark is the batch tensor's id (dfdx's [`UniqueId`], the key of its gradient), held for
//! the thread running the forward while a [`DataInput`] guard lives. The trainer's forward is a
//! model's `ModuleMut` call on a plain taped tensor, so the mark cannot travel in the tensor's
//! type; an id is never reused, so no other tensor can be taken for the batch (a view that keeps
//! the id, such as a contiguous reshape, shares the batch's gradient and is data too).

use std::cell::Cell;
use std::marker::PhantomData;

use dfdx::shapes::Shape;
use dfdx::tensor::{Storage, Tensor, UniqueId};

thread_local! {
    /// The id of the batch marked on this thread.
    static DATA_INPUT: Cell<Option<UniqueId>> = const { Cell::new(None) };
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
/// let mark: DataInput = mark_data_input(&x);
/// drop(mark); // the batch is no longer marked
/// ```
#[must_use = "the mark lasts as long as the guard"]
#[derive(Debug)]
pub struct DataInput {
    /// The mark this one replaced, restored on drop.
    previous: Option<UniqueId>,
    /// The mark belongs to the thread that set it: the guard is neither `Send` nor `Sync`.
    _thread: PhantomData<*const ()>,
}

/// Marks `x` (the input batch of a training step, whose gradient nobody reads) as data, so the
/// fused `Dense` ops fed by it (`Cpu` and `Cuda`, `f32`) skip the product `g · kernelᵀ`; other kernels
/// ignore the mark.
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
pub fn mark_data_input<S: Shape, E, D: Storage<E>, T>(x: &Tensor<S, E, D, T>) -> DataInput {
    DataInput {
        previous: DATA_INPUT.with(|m| m.replace(Some(x.id()))),
        _thread: PhantomData,
    }
}

impl Drop for DataInput {
    fn drop(&mut self) {
        DATA_INPUT.with(|m| m.set(self.previous));
    }
}

/// Whether `x` is the batch marked on this thread.
pub(crate) fn is_data_input<S: Shape, E, D: Storage<E>, T>(x: &Tensor<S, E, D, T>) -> bool {
    DATA_INPUT.with(Cell::get) == Some(x.id())
}
