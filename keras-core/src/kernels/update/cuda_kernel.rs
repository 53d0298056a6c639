//! The update of one variable on `Cuda`: the rule's kernel from `update.cu`, launched on the
//! stream dfdx launches its own kernels on, so it runs after the backward pass that wrote the
//! gradient and before the next forward pass, with no host synchronisation.

use cudarc::driver::{DevicePtr, DeviceRepr, DeviceSlice, LaunchAsync, LaunchConfig};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::{Decay, DeviceUpdate, UpdateKernel, UPDATE_SCALARS};

/// `update.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/update.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_update";

/// The kernels' names, in [`UpdateKernel::ALL`] order.
const NAMES: [&str; UpdateKernel::ALL.len()] = {
    let mut names = [""; UpdateKernel::ALL.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = UpdateKernel::ALL[i].name();
        i += 1;
    }
    names
};

/// The kernels' `UpdateArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct UpdateArgs {
    s: [f32; UPDATE_SCALARS],
    flags: u32,
    decay: u32,
    weight_decay: f32,
    decay_learning_rate: f32,
}

// SAFETY: `UpdateArgs` is `repr(C)` plain data with the layout of `update.cu`'s `UpdateArgs`
// (ten floats, two unsigned ints, two floats), passed to the kernel by value.
unsafe impl DeviceRepr for UpdateArgs {}

type Buffer = <Cuda as Storage<f32>>::Vec;

/// Launches `update`'s kernel on `value`, `grad` (zeroed by the kernel) and `slots` (at most
/// three; the rule's `slot_names` order), with `decay` first when given.
pub(crate) fn launch_update(
    dev: &Cuda,
    update: &DeviceUpdate,
    decay: Option<Decay>,
    value: &mut Buffer,
    grad: &mut Buffer,
    slots: &mut [Buffer],
) -> Result<(), CudaError> {
    let n = value.len();
    if n == 0 {
        return Ok(());
    }
    debug_assert_eq!(grad.len(), n);
    let cuda = dev.cuda_device();
    let name = update.kernel.name();
    if !cuda.has_func(MODULE, name) {
        cuda.load_ptx(PTX.into(), MODULE, &NAMES)?;
    }
    let Some(function) = cuda.get_func(MODULE, name) else {
        return Err(CudaError::Driver(cudarc::driver::DriverError(
            cudarc::driver::sys::CUresult::CUDA_ERROR_NOT_FOUND,
        )));
    };
    let args = UpdateArgs {
        s: update.scalars,
        flags: update.flags,
        decay: u32::from(decay.is_some()),
        weight_decay: decay.map_or(0.0, |d| d.weight_decay),
        decay_learning_rate: decay.map_or(0.0, |d| d.learning_rate),
    };
    // A slot a rule does not have is a null pointer, which its kernel never reads.
    let slot = |k: usize| slots.get(k).map_or(0, |s| *s.device_ptr());
    let params = (
        n,
        args,
        *value.device_ptr(),
        *grad.device_ptr(),
        slot(0),
        slot(1),
        slot(2),
    );
    let config = LaunchConfig::for_num_elems(u32::try_from(n).unwrap_or(u32::MAX));
    // SAFETY: the kernel reads and writes `n` floats of `value`, `grad` and of each slot it uses
    // (each as long as `value`, checked by the caller), all live device buffers of this device,
    // borrowed mutably for this call; it runs on the device's stream, ordered with dfdx's kernels
    // that read or write these buffers. Its parameters match `update.cu`'s signature.
    unsafe { function.launch(config, params) }?;
    Ok(())
}
