//! One optimizer step on a model, as [`Trainer::fit`](crate::trainer::Trainer::fit) takes it.

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::tensor::Gradients;

use super::params::{host_vars, scatter_values, take_grads};
use crate::device::KerasDevice;
use crate::optimizers::{FlatParams, HostParams, HostVar, Optimizer};
use crate::Result;

/// Scratch space of [`optimizer_step`], reused from step to step (no allocation per step once
/// it has grown to the model's variable count).
#[derive(Debug, Default)]
pub struct StepBuffers {
    host: Vec<HostVar>,
}

/// Applies `optimizer` to `model` with the gradients in `grads` and leaves those gradients
/// zeroed for the next step: the step [`Trainer::fit`](crate::trainer::Trainer::fit) takes
/// after each backward pass, for hand-written loops that want the same one.
///
/// Where the device keeps the tensors in host memory (`Cpu`) and the optimizer has an in-place
/// pass ([`Optimizer::apply_in_place`]), each variable's gradient is read from the model's
/// buffer and its new values written back in the pass that updates it. Otherwise the
/// gradients are moved into `params` ([`take_grads`]), the optimizer applied to `params`
/// ([`Optimizer::apply`]) and the new values written to the model ([`scatter_values`]).
/// `params` must have the model's layout ([`layout`](super::layout)); its values end as the
/// model's.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Dense;
/// use keras_core::model::{layout, optimizer_step, StepBuffers};
/// use keras_core::optimizers::Sgd;
///
/// let dev = Cpu::default();
/// let mut model = dev.build_module::<Dense<2, 1>, f32>();
/// let mut params = layout(&model).unwrap();
/// let mut opt = Sgd::new().with_learning_rate(0.5).build().unwrap();
/// let mut buffers = StepBuffers::default();
/// let before = params.values.clone();
///
/// let x = dev.tensor([[1.0f32, 2.0]]);
/// let loss = model.forward_mut(x.leaky_trace()).square().sum();
/// let mut grads = loss.backward();
/// optimizer_step(&mut model, &mut grads, &mut opt, &mut params, &mut buffers).unwrap();
/// assert_ne!(params.values, before);
/// let mut model_values = params.clone();
/// keras_core::model::gather_values(&model, &mut model_values).unwrap();
/// assert_eq!(model_values.values, params.values);
/// ```
pub fn optimizer_step<M, D, O>(
    model: &mut M,
    grads: &mut Gradients<f32, D>,
    optimizer: &mut O,
    params: &mut FlatParams,
    buffers: &mut StepBuffers,
) -> Result<()>
where
    M: TensorCollection<f32, D>,
    D: KerasDevice,
    O: Optimizer,
{
    let in_place = host_vars(model, grads, &mut buffers.host)?
        && optimizer.apply_in_place(params, &HostParams::new(&buffers.host))?;
    if !in_place {
        take_grads(model, grads, params)?;
        optimizer.apply(params)?;
        scatter_values(model, params)?;
    }
    Ok(())
}

/// [`optimizer_step`] that skips the update when a gradient is NaN or infinite (Keras's
/// `LossScaleOptimizer` does so): the gradients are moved into `params` ([`take_grads`],
/// leaving the model's zeroed), checked, and applied only when all are finite. Returns whether
/// the update was applied; a skipped step changes neither the model nor the optimizer (its
/// iteration count included).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Dense;
/// use keras_core::model::{layout, optimizer_step_if_finite};
/// use keras_core::optimizers::{Optimizer, Sgd};
///
/// let dev = Cpu::default();
/// let mut model = dev.build_module::<Dense<2, 1>, f32>();
/// let mut params = layout(&model).unwrap();
/// let mut opt = Sgd::new().build().unwrap();
/// let before = params.values.clone();
///
/// let x = dev.tensor([[f32::NAN, 2.0]]);
/// let mut grads = model.forward_mut(x.leaky_trace()).sum().backward();
/// assert!(!optimizer_step_if_finite(&mut model, &mut grads, &mut opt, &mut params).unwrap());
/// assert_eq!(params.values, before);
/// assert_eq!(opt.iterations(), 0);
/// ```
pub fn optimizer_step_if_finite<M, D, O>(
    model: &mut M,
    grads: &mut Gradients<f32, D>,
    optimizer: &mut O,
    params: &mut FlatParams,
) -> Result<bool>
where
    M: TensorCollection<f32, D>,
    D: KerasDevice,
    O: Optimizer,
{
    take_grads(model, grads, params)?;
    if !crate::kernels::all_finite(&params.grads) {
        return Ok(false);
    }
    optimizer.apply(params)?;
    scatter_values(model, params)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use dfdx::prelude::*;

    use super::{optimizer_step, StepBuffers};
    use crate::layers::{Dense, Linear};
    use crate::model::{gather_grads, gather_values, layout, scatter_values, take_grads};
    use crate::optimizers::{Adam, Optimizer};

    type Net = (Dense<3, 4, Linear>, Dense<4, 2, Linear>);

    /// The gradients of `sum(model(x)²)` for a fixed batch.
    fn backward(model: &<Net as BuildOnDevice<Cpu, f32>>::Built, dev: &Cpu) -> Gradients<f32, Cpu> {
        let x: Tensor<(usize, Const<3>), f32, _> =
            dev.tensor_from_vec(vec![1.0, -2.0, 0.5, 0.25, 3.0, -1.0], (2, Const));
        model
            .forward(x.traced(model.alloc_grads()))
            .square()
            .sum()
            .backward()
    }

    #[test]
    fn the_step_gives_the_bits_of_take_apply_scatter_and_zeroes_the_gradients() {
        let dev = Cpu::seed_from_u64(3);
        let mut stepped = dev.build_module::<Net, f32>();
        let mut by_hand = stepped.clone();
        let mut params = layout(&stepped).unwrap();
        let mut hand_params = params.clone();
        let mut opt = Adam::new().with_learning_rate(0.1).build().unwrap();
        let mut hand_opt = Adam::new().with_learning_rate(0.1).build().unwrap();
        let mut buffers = StepBuffers::default();
        for step in 0..3 {
            let mut grads = backward(&stepped, &dev);
            optimizer_step(
                &mut stepped,
                &mut grads,
                &mut opt,
                &mut params,
                &mut buffers,
            )
            .unwrap();
            let mut hand_grads = backward(&by_hand, &dev);
            take_grads(&by_hand, &mut hand_grads, &mut hand_params).unwrap();
            hand_opt.apply(&mut hand_params).unwrap();
            scatter_values(&mut by_hand, &hand_params).unwrap();

            assert_eq!(params.values, hand_params.values, "step {step}");
            let mut model_values = params.clone();
            gather_values(&stepped, &mut model_values).unwrap();
            assert_eq!(
                model_values.values, params.values,
                "the model holds the new values"
            );
            let mut left = params.clone();
            gather_grads(&stepped, &mut grads, &mut left).unwrap();
            assert!(left.grads.iter().all(|g| *g == 0.0), "gradients zeroed");
        }
        assert_eq!(opt.state(), hand_opt.state());
    }
}
