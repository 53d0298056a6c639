//! One optimizer step on a model, as [`Trainer::fit`](crate::trainer::Trainer::fit) takes it.

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::tensor::Gradients;

use super::params::{gather_values, scatter_values, take_grads};
use super::resident::ModelVars;
use crate::device::KerasDevice;
use crate::optimizers::{DeviceState, Optimizer};
use crate::state::FlatParams;
use crate::Result;

/// What [`optimizer_step`] keeps from step to step: the device it runs on, the optimizer's slots
/// there while steps run resident, and whether the flat values lag behind the model.
#[derive(Debug)]
pub struct StepBuffers<D: KerasDevice> {
    device: D,
    pub(crate) state: DeviceState<D>,
    /// Whether the model's values changed since `params.values` last mirrored them.
    pub(crate) values_stale: bool,
}

impl<D: KerasDevice> StepBuffers<D> {
    /// Buffers for steps on `device` (the model's).
    pub fn new(device: D) -> Self {
        Self {
            device,
            state: DeviceState::default(),
            values_stale: false,
        }
    }

    /// Whether the last steps ran resident and left `params.values` or the optimizer's own
    /// state behind the model (see [`sync_host`]).
    pub fn is_ahead_of_host(&self) -> bool {
        self.values_stale || self.state.is_live()
    }
}

/// Applies `optimizer` to `model` with the gradients in `grads` and leaves those gradients
/// zeroed for the next step: the step [`Trainer::fit`](crate::trainer::Trainer::fit) takes
/// after each backward pass, for hand-written loops that want the same one.
///
/// Where the device runs the optimizer's rule ([`Optimizer::apply_resident`]: every rule on
/// `Cpu`, those with CUDA kernels, all of Keras's twelve, on `Cuda`), each variable is updated
/// where it lives, by its device's kernel, in one pass over its value, gradient and slots (a few
/// for Lamb and Adafactor); the slots stay in `buffers` on the device between steps, and
/// `params.values` and the optimizer's own state lag behind until [`sync_host`]. Otherwise the host state is synced, the gradients are moved into
/// `params` ([`take_grads`]), the optimizer applied to `params` ([`Optimizer::apply`]) and the new
/// values written to the model ([`scatter_values`]). `params` must have the model's layout
/// ([`layout`](super::layout)).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Dense;
/// use keras_core::model::{layout, optimizer_step, sync_host, StepBuffers};
/// use keras_core::optimizers::Sgd;
///
/// let dev = Cpu::default();
/// let mut model = dev.build_module::<Dense<2, 1>, f32>();
/// let mut params = layout(&model).unwrap();
/// let mut opt = Sgd::new().with_learning_rate(0.5).build().unwrap();
/// let mut buffers = StepBuffers::new(dev.clone());
/// let before = params.values.clone();
///
/// let x = dev.tensor([[1.0f32, 2.0]]);
/// let loss = model.forward_mut(x.leaky_trace()).square().sum();
/// let mut grads = loss.backward();
/// optimizer_step(&mut model, &mut grads, &mut opt, &mut params, &mut buffers).unwrap();
/// assert!(buffers.is_ahead_of_host(), "SGD ran where the model is");
/// sync_host(&model, &mut opt, &mut params, &mut buffers).unwrap();
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
    buffers: &mut StepBuffers<D>,
) -> Result<()>
where
    M: TensorCollection<f32, D>,
    D: KerasDevice,
    O: Optimizer,
{
    let mut vars = ModelVars {
        model: &mut *model,
        grads: &mut *grads,
        device: &buffers.device,
    };
    if optimizer.apply_resident(params, &mut vars, &mut buffers.state)? {
        buffers.values_stale = true;
        return Ok(());
    }
    sync_host(model, optimizer, params, buffers)?;
    take_grads(model, grads, params)?;
    optimizer.apply(params)?;
    scatter_values(model, params)
}

/// Brings `params.values` (from the model) and the optimizer's own state (from the device
/// slots in `buffers`) up to date after resident steps; a no-op when nothing lags behind.
pub fn sync_host<M, D, O>(
    model: &M,
    optimizer: &mut O,
    params: &mut FlatParams,
    buffers: &mut StepBuffers<D>,
) -> Result<()>
where
    M: TensorCollection<f32, D>,
    D: KerasDevice,
    O: Optimizer,
{
    optimizer.sync_resident(&mut buffers.state, &buffers.device)?;
    sync_values(model, params, buffers)
}

/// Brings `params.values` up to date from the model after resident steps.
pub(crate) fn sync_values<M, D>(
    model: &M,
    params: &mut FlatParams,
    buffers: &mut StepBuffers<D>,
) -> Result<()>
where
    M: TensorCollection<f32, D>,
    D: KerasDevice,
{
    if buffers.values_stale {
        gather_values(model, params)?;
        buffers.values_stale = false;
    }
    Ok(())
}

/// [`optimizer_step`] that skips the update when a gradient is NaN or infinite (Keras's
/// `LossScaleOptimizer` does so). Returns whether the update was applied; a skipped step changes
/// neither the model nor the optimizer (its iteration count included) and leaves the gradients
/// zeroed.
///
/// Where the optimizer takes the step resident
/// ([`Optimizer::apply_resident_if_finite`]), the gradients are checked on the device (one sum
/// of squares over all of them) and only that one number is read to the host, which must know
/// whether the step counts; otherwise on the host: the host state is synced, the gradients are
/// moved into `params` ([`take_grads`], leaving the model's zeroed), checked, and applied only
/// when all are finite.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::layers::Dense;
/// use keras_core::model::{layout, optimizer_step_if_finite, StepBuffers};
/// use keras_core::optimizers::{Optimizer, Sgd};
///
/// let dev = Cpu::default();
/// let mut model = dev.build_module::<Dense<2, 1>, f32>();
/// let mut params = layout(&model).unwrap();
/// let mut opt = Sgd::new().build().unwrap();
/// let mut buffers = StepBuffers::new(dev.clone());
/// let before = params.values.clone();
///
/// let x = dev.tensor([[f32::NAN, 2.0]]);
/// let mut grads = model.forward_mut(x.leaky_trace()).sum().backward();
/// assert!(!optimizer_step_if_finite(&mut model, &mut grads, &mut opt, &mut params, &mut buffers).unwrap());
/// assert_eq!(params.values, before);
/// assert_eq!(opt.iterations(), 0);
/// ```
pub fn optimizer_step_if_finite<M, D, O>(
    model: &mut M,
    grads: &mut Gradients<f32, D>,
    optimizer: &mut O,
    params: &mut FlatParams,
    buffers: &mut StepBuffers<D>,
) -> Result<bool>
where
    M: TensorCollection<f32, D>,
    D: KerasDevice,
    O: Optimizer,
{
    let mut vars = ModelVars {
        model: &mut *model,
        grads: &mut *grads,
        device: &buffers.device,
    };
    if let Some(applied) =
        optimizer.apply_resident_if_finite(params, &mut vars, &mut buffers.state)?
    {
        buffers.values_stale |= applied;
        return Ok(applied);
    }
    sync_host(model, optimizer, params, buffers)?;
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

    use super::{optimizer_step, optimizer_step_if_finite, sync_host, StepBuffers};
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
        let mut buffers = StepBuffers::new(dev.clone());
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
            assert!(buffers.is_ahead_of_host(), "Adam runs resident on Cpu");
            let mut hand_grads = backward(&by_hand, &dev);
            take_grads(&by_hand, &mut hand_grads, &mut hand_params).unwrap();
            hand_opt.apply(&mut hand_params).unwrap();
            scatter_values(&mut by_hand, &hand_params).unwrap();

            // `by_hand` started as a clone sharing the model's buffers: the resident step wrote
            // its own copy (else `by_hand` would have moved twice and differ).
            sync_host(&stepped, &mut opt, &mut params, &mut buffers).unwrap();
            assert!(!buffers.is_ahead_of_host());
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

    #[test]
    fn the_checked_step_with_a_loss_scale_runs_resident_with_the_bits_of_the_host_path() {
        let dev = Cpu::seed_from_u64(5);
        let mut stepped = dev.build_module::<Net, f32>();
        let mut by_hand = stepped.clone();
        let mut params = layout(&stepped).unwrap();
        let mut hand_params = params.clone();
        let make = || {
            Adam::new()
                .with_learning_rate(0.1)
                .with_loss_scale_factor(16.0)
                .build()
                .unwrap()
        };
        let (mut opt, mut hand_opt) = (make(), make());
        let mut buffers = StepBuffers::new(dev.clone());
        let mut hand_buffers = StepBuffers::new(dev.clone());
        for step in 0..3 {
            let mut grads = backward(&stepped, &dev);
            let applied = optimizer_step_if_finite(
                &mut stepped,
                &mut grads,
                &mut opt,
                &mut params,
                &mut buffers,
            )
            .unwrap();
            assert!(applied);
            assert!(buffers.is_ahead_of_host(), "the checked step ran resident");
            // The host path: what `optimizer_step_if_finite` did before it could run resident.
            let mut hand_grads = backward(&by_hand, &dev);
            sync_host(&by_hand, &mut hand_opt, &mut hand_params, &mut hand_buffers).unwrap();
            take_grads(&by_hand, &mut hand_grads, &mut hand_params).unwrap();
            assert!(hand_params.grads.iter().all(|g| g.is_finite()));
            hand_opt.apply(&mut hand_params).unwrap();
            scatter_values(&mut by_hand, &hand_params).unwrap();
            sync_host(&stepped, &mut opt, &mut params, &mut buffers).unwrap();
            assert_eq!(params.values, hand_params.values, "step {step}");
        }
        assert_eq!(opt.state(), hand_opt.state());
        assert_eq!(opt.iterations(), 3);
    }
}
