//! Loading keras-core's CUDA kernels (`.cu` files the build script compiles to PTX) onto a
//! `Cuda` device, each module once, a tensor's device address, and the driver errors the
//! launchers report.

use cudarc::driver::{sys::CUresult, CudaFunction, DevicePtr, DriverError, LaunchAsync};

use crate::kernels::Launch;
use dfdx::shapes::Shape;
use dfdx::tensor::{Cuda, CudaError, Gradients, Tensor};

/// The kernel `name` of the PTX module `module` (`ptx`, holding the kernels `names`), loading the
/// module on first use.
pub(crate) fn function(
    dev: &Cuda,
    module: &str,
    ptx: &'static str,
    names: &[&'static str],
    name: &str,
) -> Result<CudaFunction, CudaError> {
    let cuda = dev.cuda_device();
    if !cuda.has_func(module, name) {
        cuda.load_ptx(ptx.into(), module, names)?;
    }
    cuda.get_func(module, name)
        .ok_or(CudaError::Driver(DriverError(
            CUresult::CUDA_ERROR_NOT_FOUND,
        )))
}

/// Launches the kernel `name` of the module `module` (`ptx`, holding the kernels `names`,
/// loaded on first use) on `dev`'s stream with a planned shape and parameters.
///
/// # Safety
/// As cudarc's `LaunchAsync::launch`: the parameters must be the kernel's, in its order, and
/// every address among them a live buffer of `dev` as long as the kernel reads or writes for
/// this shape, nothing else writing what it reads or touching what it writes meanwhile.
pub(crate) unsafe fn run_kernel<P>(
    dev: &Cuda,
    (module, ptx, names): (&str, &'static str, &[&'static str]),
    name: &str,
    (shape, params): (Launch, P),
) -> Result<(), CudaError>
where
    CudaFunction: LaunchAsync<P>,
{
    let kernel = function(dev, module, ptx, names, name)?;
    // SAFETY: the caller's promise.
    unsafe { kernel.launch(shape.into(), params) }?;
    Ok(())
}

/// The device address of `t`'s buffer, as a kernel parameter or a cuBLAS operand.
pub(crate) fn address<S: Shape, T>(t: &Tensor<S, f32, Cuda, T>) -> u64 {
    *t.storage().device_ptr()
}

/// `len` floats from dfdx's allocator (its cache), not zero-filled: for a kernel's temporary
/// that is written before it is read. When it drops, its buffer goes back to the cache, and
/// whoever takes it next runs after the kernels launched meanwhile on the same stream.
pub(crate) fn scratch(dev: &Cuda, len: usize) -> Result<Tensor<(usize,), f32, Cuda>, CudaError> {
    dev.try_unfilled_like(&(len,))
}

/// `len` floats from dfdx's cache as [`scratch`], or none for `len` 0 (a temporary the plan
/// does not use).
pub(crate) fn temporary(
    dev: &Cuda,
    len: usize,
) -> Result<Option<Tensor<(usize,), f32, Cuda>>, CudaError> {
    (len > 0).then(|| scratch(dev, len)).transpose()
}

/// The device address of `t`'s gradient, allocated (zero-filled) if it has none yet. The buffer
/// stays where it is while the map holds it (only the map's handles move as it grows).
pub(crate) fn grad_address<S: Shape>(
    grads: &mut Gradients<f32, Cuda>,
    t: &Tensor<S, f32, Cuda>,
) -> Result<u64, CudaError> {
    Ok(*grads.get_or_alloc_mut(t)?.device_ptr())
}

/// The error of a launch whose buffers or parameters do not fit the kernel.
pub(crate) fn invalid_value() -> CudaError {
    CudaError::Driver(DriverError(CUresult::CUDA_ERROR_INVALID_VALUE))
}
