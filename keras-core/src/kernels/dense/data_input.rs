//! Marks the batch a trainer feeds its model as data: the fused ops (`Dense`, `Conv2D`, the
//! normalizations) do not compute the gradient with respect to it (nobody reads it), which saves
//! a third of the first layer's backward work. Keras's JAX trainer likewise differentiates with
//! respect to the weights only.
//!
//! The mark is the batch tensor's id (dfdx's [`UniqueId`], the key of its gradient), kept by the
//! gradients the batch's tape carries (the vendored dfdx's `Gradients::mark_data_input`): it
//! travels with the tape through the forward pass, whatever layers it meets, and each fused op's
//! backward asks the gradients it is handed. An id is never reused, so no other tensor can be
//! taken for the batch (a view that keeps the id, such as a contiguous reshape, shares the
//! batch's gradient and is data too).

use dfdx::shapes::Shape;
use dfdx::tensor::{Gradients, Storage, Tensor};

/// Marks `x` (the input batch of a training step, whose gradient nobody reads) as data in
/// `grads`, the gradients its tape will carry (replacing any earlier mark), so that the fused
/// ops fed by it (`Dense`, `Conv2D`, `LayerNormalization`, `BatchNormalization`; `Cpu` and
/// `Cuda`, `f32`) skip their input's gradient; other ops ignore the mark.
///
/// Mark a batch that is not itself a trainable tensor, before tracing it into `grads`.
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
/// mark_data_input(&mut grads, &x);
/// let y = model.forward(x.traced(grads));
/// grads = y.sum().backward();
/// assert_eq!(grads.get(&model.bias).array(), [4.0, 4.0]);
/// ```
pub fn mark_data_input<S: Shape, E, D: Storage<E>, T>(
    grads: &mut Gradients<E, D>,
    x: &Tensor<S, E, D, T>,
) {
    grads.mark_data_input(x.id());
}

/// Whether `x` is the batch marked as data in `grads` (a fused op's backward asks the gradients
/// it is handed).
pub(crate) fn is_data_input<S: Shape, E, D: Storage<E>, T>(
    grads: &Gradients<E, D>,
    x: &Tensor<S, E, D, T>,
) -> bool {
    grads.is_data_input(x.id())
}

#[cfg(test)]
mod tests {
    use super::mark_data_input;
    use crate::kernels::{try_dense, Epilogue};
    use dfdx::prelude::*;

    #[test]
    fn the_mark_travels_with_the_tape_through_a_merge_of_tapes() {
        let dev = Cpu::default();
        let x: Tensor<(usize, Const<3>), f32, _> =
            dev.tensor_from_vec(vec![1.0, -2.0, 0.5, 3.0, 1.5, -1.0], (2, Const));
        let kernel: Tensor<Rank2<3, 2>, f32, _> =
            dev.tensor([[0.5, -1.0], [2.0, 0.25], [-0.75, 1.0]]);
        let bias: Tensor<Rank1<2>, f32, _> = dev.tensor([0.1, -0.2]);
        for mark in [false, true] {
            let mut grads = Gradients::leaky();
            if mark {
                mark_data_input(&mut grads, &x);
            }
            let taped = x.clone().traced(grads);
            // A second branch from the batch on a tape of its own, merged back by the sum: the
            // mark must hold for the ops of both branches.
            let branch = taped.with_empty_tape();
            let y = try_dense(branch, &kernel, &bias, Epilogue::Bias).unwrap()
                + try_dense(taped, &kernel, &bias, Epilogue::BiasRelu).unwrap();
            let mut grads = y.sum().backward();
            let gx = grads.get_or_alloc_mut(&x).unwrap().to_vec();
            assert_eq!(gx.iter().all(|&g| g == 0.0), mark, "{gx:?}");
            assert!(grads.get(&kernel).as_vec().iter().any(|&g| g != 0.0));
        }
        // A later tape without the mark computes the batch's gradient again.
        let y = try_dense(x.leaky_trace(), &kernel, &bias, Epilogue::Bias).unwrap();
        let mut grads = y.sum().backward();
        assert!(grads
            .get_or_alloc_mut(&x)
            .unwrap()
            .iter()
            .any(|&g| g != 0.0));
    }
}
