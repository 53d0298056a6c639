//! Summing a model's gradients across the processes of a data-parallel `fit`.

use dfdx::nn::tensor_collection::TensorCollection;
use dfdx::tensor::Gradients;

use super::resident::ModelVars;
use crate::device::KerasDevice;
use crate::distribution::Distribution;
use crate::optimizers::ResidentVars;
use crate::state::FlatParams;
use crate::Result;

/// Replaces each trainable variable's gradient in `grads` with its sum over `dist`'s
/// processes, over the gradient buffers themselves (one collective per variable; on `Cpu` no
/// copy of the model is made; on `Cuda` each buffer is summed on the device with NCCL when the
/// distribution has a communicator, else through the host). Does nothing for one process.
pub(crate) fn all_reduce_grads<M, D, Dist>(
    model: &mut M,
    grads: &mut Gradients<f32, D>,
    params: &FlatParams,
    device: &D,
    dist: &Dist,
) -> Result<()>
where
    M: TensorCollection<f32, D>,
    D: KerasDevice,
    Dist: Distribution,
{
    if dist.num_processes() == 1 {
        return Ok(());
    }
    let mut vars = ModelVars {
        model,
        grads,
        device,
    };
    vars.for_each_var(|device, index, _value, grad| {
        let len = params.vars[index].range().len();
        device.try_all_reduce_sum(grad, len, dist)
    })
}
