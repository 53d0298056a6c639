//! The update of one variable on `Cuda`: the rule's kernel from `update.cu`, launched on the
//! stream dfdx launches its own kernels on, so it runs after the backward pass that wrote the
//! gradient and before the next forward pass, with no host synchronisation.

use crate::kernels::cuda_function::invalid_value;
use cudarc::driver::{CudaSlice, DevicePtr, DeviceRepr, DeviceSlice, LaunchAsync, LaunchConfig};
use dfdx::tensor::{Cuda, CudaError, Storage};

use super::VarBuffers;
use super::{DeviceUpdate, Stages, UpdateKernel, UPDATE_SCALARS};

/// `update.cu` compiled to PTX by the build script (empty under `ci-check`).
const PTX: &str = include_str!(concat!(env!("OUT_DIR"), "/update.ptx"));

/// The module name the kernels are loaded under.
const MODULE: &str = "keras_update";

/// The norm clip's sum of squares kernel.
const SUM_SQUARES: &str = "keras_sum_squares";

/// The accumulation ahead of a norm clip.
const ACCUMULATE: &str = "keras_accumulate";

/// A loss scale's undo ahead of a norm clip.
const UNSCALE: &str = "keras_unscale";

/// Lamb's passes after its first ([`UpdateKernel::name`]).
const LAMB_RATIO: &str = "keras_lamb_ratio";
const LAMB_APPLY: &str = "keras_lamb_apply";

/// Adafactor's passes after its first ([`UpdateKernel::name`]).
const ADAFACTOR_FACTORS: &str = "keras_adafactor_factors";
const ADAFACTOR_ROW_MEANS: &str = "keras_adafactor_row_means";
const ADAFACTOR_VELOCITY: &str = "keras_adafactor_velocity";
const ADAFACTOR_SCALES: &str = "keras_adafactor_scales";
const ADAFACTOR_APPLY: &str = "keras_adafactor_apply";

/// The kernels of `update.cu` besides the first of each [`UpdateKernel`].
const OTHERS: [&str; 10] = [
    SUM_SQUARES,
    ACCUMULATE,
    UNSCALE,
    LAMB_RATIO,
    LAMB_APPLY,
    ADAFACTOR_FACTORS,
    ADAFACTOR_ROW_MEANS,
    ADAFACTOR_VELOCITY,
    ADAFACTOR_SCALES,
    ADAFACTOR_APPLY,
];

/// Every kernel of `update.cu`: the update kernels in [`UpdateKernel::ALL`] order, then
/// [`OTHERS`].
const NAMES: [&str; UpdateKernel::ALL.len() + OTHERS.len()] = {
    let mut names = [""; UpdateKernel::ALL.len() + OTHERS.len()];
    let mut i = 0;
    while i < UpdateKernel::ALL.len() {
        names[i] = UpdateKernel::ALL[i].name();
        i += 1;
    }
    let mut j = 0;
    while j < OTHERS.len() {
        names[i + j] = OTHERS[j];
        j += 1;
    }
    names
};

/// `update.cu`'s kernel `name`, loading the module on first use.
fn function(dev: &Cuda, name: &str) -> Result<cudarc::driver::CudaFunction, CudaError> {
    crate::kernels::cuda_function::function(dev, MODULE, PTX, &NAMES, name)
}

/// The kernels' `UpdateArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
struct UpdateArgs {
    s: [f32; UPDATE_SCALARS],
    flags: u32,
    stages: u32,
    weight_decay: f32,
    decay_learning_rate: f32,
    accumulation_steps: f32,
    clip_value: f32,
    ema_momentum: f32,
    ema_rest: f32,
    clip_norm: f32,
    inv_clip_norm: f32,
    loss_scale: f32,
}

// SAFETY: `UpdateArgs` is `repr(C)` plain data with the layout of `update.cu`'s `UpdateArgs`
// (ten floats, two unsigned ints, nine floats), passed to the kernel by value.
unsafe impl DeviceRepr for UpdateArgs {}

// `update.cu`'s stage bits.
const STAGE_DECAY: u32 = 1;
const STAGE_ACCUMULATE: u32 = 2;
const STAGE_UPDATE_STEP: u32 = 4;
const STAGE_CLIP_VALUE: u32 = 8;
const STAGE_EMA: u32 = 16;
const STAGE_EMA_OVERWRITE: u32 = 32;
const STAGE_CLIP_NORM: u32 = 64;
const STAGE_CLIP_GLOBAL_NORM: u32 = 128;
const STAGE_UNSCALE: u32 = 256;

impl UpdateArgs {
    fn new(update: &DeviceUpdate, stages: &Stages) -> Self {
        let mut args = UpdateArgs {
            s: update.scalars,
            flags: update.flags,
            stages: 0,
            weight_decay: 0.0,
            decay_learning_rate: 0.0,
            accumulation_steps: 1.0,
            clip_value: 0.0,
            ema_momentum: 0.0,
            ema_rest: 1.0,
            clip_norm: 0.0,
            inv_clip_norm: 0.0,
            loss_scale: 1.0,
        };
        if let Some(s) = stages.unscale {
            args.stages |= STAGE_UNSCALE;
            args.loss_scale = s;
        }
        if let Some(c) = stages.clip_norm {
            args.stages |= if c.global {
                STAGE_CLIP_GLOBAL_NORM
            } else {
                STAGE_CLIP_NORM
            };
            (args.clip_norm, args.inv_clip_norm) = (c.clip, c.inv_clip);
        }
        if let Some(d) = stages.decay {
            args.stages |= STAGE_DECAY;
            (args.weight_decay, args.decay_learning_rate) = (d.weight_decay, d.learning_rate);
        }
        if let Some(a) = stages.accumulate {
            args.stages |= STAGE_ACCUMULATE;
            if a.update {
                args.stages |= STAGE_UPDATE_STEP;
            }
            args.accumulation_steps = a.steps;
        }
        if let Some(c) = stages.clip_value {
            args.stages |= STAGE_CLIP_VALUE;
            args.clip_value = c;
        }
        if let Some(e) = stages.ema {
            args.stages |= STAGE_EMA;
            if e.overwrite {
                args.stages |= STAGE_EMA_OVERWRITE;
            }
            (args.ema_momentum, args.ema_rest) = (e.momentum, e.rest);
        }
        args
    }
}

type Buffer = <Cuda as Storage<f32>>::Vec;

/// `update.cu`'s `FactorDims`: Adafactor's factoring of a variable (`rows` 0 when it keeps a
/// full second moment).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
struct FactorDims {
    batches: usize,
    rows: usize,
    cols: usize,
}

// SAFETY: `FactorDims` is `repr(C)` plain data with the layout of `update.cu`'s `FactorDims`
// (three `size_t`), passed to the kernels by value.
unsafe impl DeviceRepr for FactorDims {}

/// Launches `update`'s kernel (or, for Lamb and Adafactor, its passes) on `value`, `grad`
/// (zeroed by the kernels) and the variable's `state` (its slots, at most three, in the rule's
/// `slot_names` order; its accumulator and moving average when `stages` use them), with `stages`
/// around the rule; `norm` is the sums of squares and the index of the one a norm clip in
/// `stages` reads; `var` is the variable (Adafactor factors its last two axes).
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
    if n == 0 {
        return Ok(());
    }
    debug_assert_eq!(grad.len(), n);
    if state.slots.len() > 3 {
        // `update.cu`'s kernels take three slots; no rule has more.
        return Err(invalid_value());
    }
    let first = function(dev, update.kernel.name())?;
    let norm_sum = norm.map_or(0, |(sums, i)| f64_at(sums, i));
    // A buffer a rule or a stage does not use is a null pointer, which its kernel never reads.
    let slot = |k: usize| {
        state
            .slots
            .get(k)
            .and_then(Option::as_ref)
            .map_or(0, |s| *s.device_ptr())
    };
    let ptr = |b: &Option<Buffer>| b.as_ref().map_or(0, |b| *b.device_ptr());
    let params = (
        n,
        UpdateArgs::new(update, stages),
        *value.device_ptr(),
        *grad.device_ptr(),
        slot(0),
        slot(1),
        slot(2),
        ptr(&state.accumulator),
        ptr(&state.ema),
        norm_sum,
    );
    let config = LaunchConfig::for_num_elems(u32::try_from(n).unwrap_or(u32::MAX));
    match update.kernel {
        UpdateKernel::Lamb => {
            let scratch = dev.try_alloc_len(1)?;
            let p = with_scratch(params, &scratch, FactorDims::default());
            // SAFETY: as below, each pass with `KERAS_PASS_PARAMS` (the scratch float is a
            // live buffer held to the end of this call; later work on the stream is ordered
            // after the passes); the ratio pass runs in one block of 1024 threads, as its
            // reduction requires.
            unsafe {
                first.launch(config, p)?;
                function(dev, LAMB_RATIO)?.launch(ONE_BLOCK, p)?;
                function(dev, LAMB_APPLY)?.launch(config, p)?;
            }
        }
        UpdateKernel::Adafactor => {
            let dims = factors.map_or(FactorDims::default(), |(batches, rows, cols)| FactorDims {
                batches,
                rows,
                cols,
            });
            let factored = dims.rows > 0;
            let has = |k: usize| state.slots.get(k).is_some_and(Option::is_some);
            if !has(2) || (factored && !(has(0) && has(1))) {
                return Err(invalid_value());
            }
            let scratch = dev.try_alloc_len(2 + dims.batches)?;
            let p = with_scratch(params, &scratch, dims);
            let items = |count: usize| {
                LaunchConfig::for_num_elems(u32::try_from(count.max(1)).unwrap_or(u32::MAX))
            };
            // SAFETY: as below, each pass with `KERAS_PASS_PARAMS`; the factor passes read and
            // write `batches * rows` floats of the first slot and `batches * cols` of the second
            // (their lengths for this variable) and `2 + batches` of the scratch buffer, held to
            // the end of this call; the scales pass runs in one block of 1024 threads.
            unsafe {
                first.launch(config, p)?;
                if factored {
                    let count = dims.batches * (dims.rows + dims.cols);
                    function(dev, ADAFACTOR_FACTORS)?.launch(items(count), p)?;
                    function(dev, ADAFACTOR_ROW_MEANS)?.launch(items(dims.batches), p)?;
                    function(dev, ADAFACTOR_VELOCITY)?.launch(config, p)?;
                }
                function(dev, ADAFACTOR_SCALES)?.launch(ONE_BLOCK, p)?;
                function(dev, ADAFACTOR_APPLY)?.launch(config, p)?;
            }
        }
        _ => {
            // SAFETY: the kernel reads and writes `n` floats of `value`, `grad` and of each
            // slot, accumulator and average it uses (each as long as `value`, checked by the
            // caller), all live device buffers of this device, borrowed mutably for this call;
            // it runs on the device's stream, ordered with dfdx's kernels that read or write
            // these buffers. Its parameters match `update.cu`'s `KERAS_UPDATE_PARAMS`.
            unsafe { first.launch(config, params) }?;
        }
    }
    Ok(())
}

/// One block of 1024 threads: the reductions' launch.
const ONE_BLOCK: LaunchConfig = LaunchConfig {
    grid_dim: (1, 1, 1),
    block_dim: (1024, 1, 1),
    shared_mem_bytes: 0,
};

/// `update.cu`'s `KERAS_UPDATE_PARAMS` followed by the pass kernels' scratch buffer and factor
/// dimensions (`KERAS_PASS_PARAMS`).
type PassParams = (
    usize,
    UpdateArgs,
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    u64,
    FactorDims,
);

fn with_scratch(
    p: (usize, UpdateArgs, u64, u64, u64, u64, u64, u64, u64, u64),
    scratch: &Buffer,
    dims: FactorDims,
) -> PassParams {
    (
        p.0,
        p.1,
        p.2,
        p.3,
        p.4,
        p.5,
        p.6,
        p.7,
        p.8,
        p.9,
        *scratch.device_ptr(),
        dims,
    )
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
    let n = grad.len();
    if n == 0 {
        return Ok(());
    }
    let function = function(dev, SUM_SQUARES)?;
    let config = LaunchConfig {
        grid_dim: (1, 1, 1),
        block_dim: (1024, 1, 1),
        shared_mem_bytes: 0,
    };
    let params = (n, *grad.device_ptr(), f64_at(sums, index));
    // SAFETY: the kernel reads `n` floats of `grad` and adds to one double of `sums`, both live
    // buffers of this device borrowed for the call; one block of 1024 threads, as the kernel's
    // tree reduction requires; parameters as `keras_sum_squares`'s.
    unsafe { function.launch(config, params) }?;
    Ok(())
}

/// `grad = grad / factor` (`keras_unscale`).
pub(crate) fn launch_unscale(dev: &Cuda, grad: &mut Buffer, factor: f32) -> Result<(), CudaError> {
    let n = grad.len();
    if n == 0 {
        return Ok(());
    }
    let function = function(dev, UNSCALE)?;
    let config = LaunchConfig::for_num_elems(u32::try_from(n).unwrap_or(u32::MAX));
    let params = (n, factor, *grad.device_ptr());
    // SAFETY: the kernel reads and writes `n` floats of `grad`, a live buffer of this device
    // borrowed mutably for the call; parameters as `keras_unscale`'s.
    unsafe { function.launch(config, params) }?;
    Ok(())
}

/// `grad = (grad + accumulator) / steps`, `accumulator = 0` (`keras_accumulate`).
pub(crate) fn launch_accumulate(
    dev: &Cuda,
    grad: &mut Buffer,
    accumulator: &mut Buffer,
    steps: f32,
) -> Result<(), CudaError> {
    let n = grad.len();
    if n == 0 {
        return Ok(());
    }
    debug_assert_eq!(accumulator.len(), n);
    let function = function(dev, ACCUMULATE)?;
    let config = LaunchConfig::for_num_elems(u32::try_from(n).unwrap_or(u32::MAX));
    let params = (n, steps, *grad.device_ptr(), *accumulator.device_ptr());
    // SAFETY: the kernel reads and writes `n` floats of `grad` and `accumulator`, live buffers of
    // this device borrowed mutably for the call; parameters as `keras_accumulate`'s.
    unsafe { function.launch(config, params) }?;
    Ok(())
}
