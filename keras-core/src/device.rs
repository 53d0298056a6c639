//! What the trainer needs from a device beyond dfdx's `Device`: reading a gradient to the host
//! without allocating.

use dfdx::{
    shapes::Shape,
    tensor::{Cpu, Gradients, Tensor},
    tensor_ops::Device,
};

/// A dfdx device the trainer can run on: [`Cpu`], or `Cuda` with the `cuda` feature.
pub trait KerasDevice: Device<f32> + Clone + 'static {
    /// Copies the gradient of `t` into `out` (its length is `t`'s element count). A parameter
    /// whose gradient was never allocated reads as zeros.
    fn copy_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err>;
}

impl KerasDevice for Cpu {
    fn copy_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        let g = grads.get_or_alloc_mut(t)?;
        out.copy_from_slice(&g[..out.len()]);
        Ok(())
    }
}

#[cfg(feature = "cuda")]
impl KerasDevice for dfdx::tensor::Cuda {
    fn copy_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        grads.try_alloc_for(t)?;
        grads.get(t).copy_into(out);
        Ok(())
    }
}
