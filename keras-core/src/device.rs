//! What the trainer needs from a device beyond dfdx's `Device`: reading a gradient to the host
//! (and zeroing it for the next step) and writing values back, without allocating.

use crate::optimizers::HostVar;
use dfdx::{
    shapes::Shape,
    tensor::{Cache, Cpu, Gradients, Tensor},
    tensor_ops::Device,
};

/// A dfdx device the trainer can run on: [`Cpu`], or `Cuda` with the `cuda` feature.
///
/// The trainer turns on the device's allocation [`Cache`] (see
/// [`Trainer::compile`](crate::Trainer::compile)), so that each step's activations and
/// gradients reuse the buffers of the step before.
pub trait KerasDevice: Device<f32> + Cache + Clone + 'static {
    /// Copies the gradient of `t` into `out` (its length is `t`'s element count). A parameter
    /// whose gradient was never allocated reads as zeros.
    fn copy_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err>;

    /// Copies the gradient of `t` into `out`, like [`copy_grad_into`](KerasDevice::copy_grad_into),
    /// then zeroes it.
    fn take_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        Self::copy_grad_into(grads, t, out)?;
        t.device().try_fill_with_zeros(grads.get_or_alloc_mut(t)?)
    }

    /// Writes `values` (as many as `t` has elements) into `t`.
    fn write_values<S: Shape>(t: &mut Tensor<S, f32, Self>, values: &[f32]) {
        t.copy_from(values);
    }

    /// The memory this device has in use, in bytes, as far as it can tell: the bound on the
    /// allocation cache (see [`Trainer::set_cache_limit`](crate::Trainer::set_cache_limit))
    /// watches its growth. `None` (the default) where the device cannot say.
    fn memory_in_use(&self) -> Option<usize> {
        None
    }

    /// The host addresses of `t`'s values and of its gradient (allocated if missing), when this
    /// device keeps both as contiguous host buffers of the same length (`Cpu`); `None` (the
    /// default) otherwise. The trainer's optimizer step then reads and writes them in place.
    #[doc(hidden)]
    fn host_var<S: Shape>(
        t: &mut Tensor<S, f32, Self>,
        grads: &mut Gradients<f32, Self>,
    ) -> Result<Option<HostVar>, Self::Err> {
        let _ = (t, grads);
        Ok(None)
    }
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

    /// One pass over the gradient, on rayon's threads for large tensors: copy, then zero.
    fn take_grad_into<S: Shape>(
        grads: &mut Gradients<f32, Self>,
        t: &Tensor<S, f32, Self>,
        out: &mut [f32],
    ) -> Result<(), Self::Err> {
        let g = grads.get_or_alloc_mut(t)?;
        let len = out.len();
        crate::kernels::par_take(out, &mut g[..len]);
        Ok(())
    }

    /// On rayon's threads for large contiguous tensors.
    fn write_values<S: Shape>(t: &mut Tensor<S, f32, Self>, values: &[f32]) {
        match crate::kernels::contiguous_mut(t) {
            Some(dst) if dst.len() == values.len() => crate::kernels::par_copy(dst, values),
            _ => t.copy_from(values),
        }
    }

    /// The process's resident memory (`VmRSS` of `/proc/self/status`); `None` off Linux.
    fn memory_in_use(&self) -> Option<usize> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: usize = line.split_whitespace().nth(1)?.parse().ok()?;
        kib.checked_mul(1024)
    }

    fn host_var<S: Shape>(
        t: &mut Tensor<S, f32, Self>,
        grads: &mut Gradients<f32, Self>,
    ) -> Result<Option<HostVar>, Self::Err> {
        let grad = grads.get_or_alloc_mut(t)?;
        let (grad, len) = (grad.as_mut_ptr(), grad.len());
        Ok(match crate::kernels::contiguous_mut(t) {
            Some(value) if value.len() == len => Some(HostVar {
                value: value.as_mut_ptr(),
                grad,
                len,
            }),
            _ => None,
        })
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

    /// The GPU's used memory (total less free, `cuMemGetInfo`), all processes on it included;
    /// `None` when the driver cannot say (no CUDA context on this thread).
    fn memory_in_use(&self) -> Option<usize> {
        let (free, total) = cudarc::driver::result::mem_get_info().ok()?;
        Some(total.saturating_sub(free))
    }
}
