//! The update of one variable on `Cuda`: the rule's kernel from `update.cu`, launched on the
//! stream dfdx launches its own kernels on, so it runs after the backward pass that wrote the
//! gradient and before the next forward pass, with no host synchronisation. The launches are
//! planned in `launch.rs`.

use crate::kernels::cuda_function::invalid_value;
use cudarc::driver::{CudaSlice, DevicePtr, DeviceSlice, LaunchAsync};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::launch::{self, plan, UpdateAddresses, ACCUMULATE, NAMES, SUM_SQUARES, UNSCALE};
use super::VarBuffers;
use super::{DeviceUpdate, Stages};

/// `update.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/update.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_update";

/// `update.cu`'s kernel `name`, loading the module on first use.
fn function(dev: &Cuda, name: &str) -> Result<cudarc::driver::CudaFunction, CudaError> {
    crate::kernels::cuda_function::function(dev, MODULE, PTX, &NAMES, name)
}

type Buffer = <Cuda as Storage<f32>>::Vec;

/// Launches `update`'s kernel (or, for Lamb and Adafactor, its passes) on `value`, `grad`
/// (zeroed by the kernels) and the variable's `state` (its slots, at most three, in the rule's
/// `slot_names` order; its accumulator and moving average when `stages` use them), with `stages`
/// around the rule; `norm` is the sums of squares and the index of the one a norm clip in
/// `stages` reads; `factors` is Adafactor's factoring of the variable's last two axes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn launch_update(
    dev: &Cuda,
    update: &DeviceUpdate,
    stages: &Stages,
    norm: Option<(&CudaSlice<f64>, usize)>,
    factors: Option<(usize, usize, usize)>,
    value: &mut Buffer,
    grad: &mut Buffer,
    state: &mut VarBuffers<Buffer>,
) -> Result<(), CudaError> {
    let n = value.len();
    debug_assert_eq!(grad.len(), n);
    let mut present = [false; 4];
    for (p, slot) in present.iter_mut().zip(&state.slots) {
        *p = slot.is_some();
    }
    let slots = &present[..state.slots.len().min(present.len())];
    let Some(plan) = plan(update, stages, n, factors, slots).map_err(|()| invalid_value())? else {
        return Ok(());
    };
    // A buffer a rule or a stage does not use is a null pointer, which its kernel never reads.
    let slot = |k: usize| {
        state
            .slots
            .get(k)
            .and_then(Option::as_ref)
            .map_or(0, |s| *s.device_ptr())
    };
    let ptr = |b: &Option<Buffer>| b.as_ref().map_or(0, |b| *b.device_ptr());
    let at = UpdateAddresses {
        value: *value.device_ptr(),
        grad: *grad.device_ptr(),
        slots: [slot(0), slot(1), slot(2)],
        accumulator: ptr(&state.accumulator),
        ema: ptr(&state.ema),
        norm_sum: norm.map_or(0, |(sums, i)| f64_at(sums, i)),
    };
    match plan.scratch {
        None => {
            let (name, shape) = plan.passes()[0];
            // SAFETY: the kernel reads and writes `n` floats of `value`, `grad` and of each
            // slot, accumulator and average it uses (each as long as `value`, checked by the
            // caller), all live device buffers of this device, borrowed mutably for this call;
            // it runs on the device's stream, ordered with dfdx's kernels that read or write
            // these buffers. Its parameters match `update.cu`'s `KERAS_UPDATE_PARAMS`.
            unsafe { function(dev, name)?.launch(shape.into(), plan.params(&at)) }?;
        }
        Some(len) => {
            let scratch: Buffer = dev.try_alloc_len(len)?;
            let p = plan.pass_params(&at, *scratch.device_ptr());
            for &(name, shape) in plan.passes() {
                // SAFETY: as above, each pass with `KERAS_PASS_PARAMS`; the scratch floats are a
                // live buffer held to the end of this call (later work on the stream is ordered
                // after the passes); Adafactor's factor passes read and write `batches * rows`
                // floats of the first slot and `batches * cols` of the second (their lengths for
                // this variable); the reductions run in one block of 1024 threads, as they
                // require.
                unsafe { function(dev, name)?.launch(shape.into(), p) }?;
            }
        }
    }
    Ok(())
}

/// The device address of `sums[index]`.
fn f64_at(sums: &CudaSlice<f64>, index: usize) -> u64 {
    debug_assert!(index < sums.len());
    *sums.device_ptr() + (index * std::mem::size_of::<f64>()) as u64
}

/// Adds the sum of squares of `grad` to `sums[index]` (`keras_sum_squares`: one block, a fixed
/// reduction order).
pub(crate) fn launch_sum_squares(
    dev: &Cuda,
    grad: &Buffer,
    sums: &mut CudaSlice<f64>,
    index: usize,
) -> Result<(), CudaError> {
    let Some((shape, params)) =
        launch::sum_squares(grad.len(), *grad.device_ptr(), f64_at(sums, index))
    else {
        return Ok(());
    };
    // SAFETY: the kernel reads `n` floats of `grad` and adds to one double of `sums`, both live
    // buffers of this device borrowed for the call; one block of 1024 threads, as the kernel's
    // tree reduction requires; parameters as `keras_sum_squares`'s.
    unsafe { function(dev, SUM_SQUARES)?.launch(shape.into(), params) }?;
    Ok(())
}

/// `grad = grad / factor` (`keras_unscale`).
pub(crate) fn launch_unscale(dev: &Cuda, grad: &mut Buffer, factor: f32) -> Result<(), CudaError> {
    let Some((shape, params)) = launch::unscale(grad.len(), factor, *grad.device_ptr()) else {
        return Ok(());
    };
    // SAFETY: the kernel reads and writes `n` floats of `grad`, a live buffer of this device
    // borrowed mutably for the call; parameters as `keras_unscale`'s.
    unsafe { function(dev, UNSCALE)?.launch(shape.into(), params) }?;
    Ok(())
}

/// `grad = (grad + accumulator) / steps`, `accumulator = 0` (`keras_accumulate`).
pub(crate) fn launch_accumulate(
    dev: &Cuda,
    grad: &mut Buffer,
    accumulator: &mut Buffer,
    steps: f32,
) -> Result<(), CudaError> {
    debug_assert_eq!(accumulator.len(), grad.len());
    let (g, acc) = (*grad.device_ptr(), *accumulator.device_ptr());
    let Some((shape, params)) = launch::accumulate(grad.len(), steps, g, acc) else {
        return Ok(());
    };
    // SAFETY: the kernel reads and writes `n` floats of `grad` and `accumulator`, live buffers of
    // this device borrowed mutably for the call; parameters as `keras_accumulate`'s.
    unsafe { function(dev, ACCUMULATE)?.launch(shape.into(), params) }?;
    Ok(())
}
