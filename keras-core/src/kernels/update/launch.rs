//! The launches of `update.cu`'s kernels, planned for `cuda_kernel.rs` and for the kernels' CPU
//! emulation alike: the arguments every kernel takes, and which kernels (passes) one variable's
//! update runs, in which shapes.

use super::{DeviceUpdate, Stages, UpdateKernel, UPDATE_SCALARS};
use crate::kernels::Launch;

/// The norm clip's sum of squares kernel.
pub(crate) const SUM_SQUARES: &str = "keras_sum_squares";

/// The accumulation ahead of a norm clip.
pub(crate) const ACCUMULATE: &str = "keras_accumulate";

/// A loss scale's undo ahead of a norm clip.
pub(crate) const UNSCALE: &str = "keras_unscale";

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
pub(crate) const NAMES: [&str; UpdateKernel::ALL.len() + OTHERS.len()] = {
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

/// One block of 1024 threads: the reductions' launch.
pub(crate) const ONE_BLOCK: Launch = Launch::one_block(1024);

/// The kernels' `UpdateArgs`, field for field.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpdateArgs {
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
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for UpdateArgs {}
// SAFETY: as above.
#[cfg(all(test, feature = "cuda-emulation"))]
unsafe impl crate::kernels::emulation::Param for UpdateArgs {}

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

/// `update.cu`'s `FactorDims`: Adafactor's factoring of a variable (`rows` 0 when it keeps a
/// full second moment).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FactorDims {
    batches: usize,
    rows: usize,
    cols: usize,
}

// SAFETY: `FactorDims` is `repr(C)` plain data with the layout of `update.cu`'s `FactorDims`
// (three `size_t`), passed to the kernels by value.
#[cfg(feature = "cuda")]
unsafe impl cudarc::driver::DeviceRepr for FactorDims {}
// SAFETY: as above.
#[cfg(all(test, feature = "cuda-emulation"))]
unsafe impl crate::kernels::emulation::Param for FactorDims {}

/// `update.cu`'s `KERAS_UPDATE_PARAMS`: the element count, the arguments, then the addresses of
/// the values, the gradient, three slots, the accumulator, the moving average and the sum of
/// squares a norm clip reads (0 for a buffer the step does not use).
pub(crate) type UpdateParams = (usize, UpdateArgs, u64, u64, u64, u64, u64, u64, u64, u64);

/// `KERAS_PASS_PARAMS`: [`UpdateParams`], then the scratch buffer's address and the factoring.
pub(crate) type PassParams = (
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

/// Where one variable's buffers are (addresses; 0 for one the step does not use).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct UpdateAddresses {
    /// The values.
    pub value: u64,
    /// The gradient.
    pub grad: u64,
    /// The rule's slots, in its `slot_names` order.
    pub slots: [u64; 3],
    /// The gradient accumulator.
    pub accumulator: u64,
    /// The moving average.
    pub ema: u64,
    /// The sum of squares a norm clip reads (an `f64`).
    pub norm_sum: u64,
}

/// The most passes one variable's update takes (Adafactor's).
const MAX_PASSES: usize = 6;

/// One variable's update: its kernels in order, each with its launch shape, and the arguments
/// they share.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UpdatePlan {
    n: usize,
    args: UpdateArgs,
    dims: FactorDims,
    /// Floats of device scratch the passes share: `Some` for the rules in several passes (whose
    /// kernels take [`PassParams`]), `None` for an elementwise rule ([`UpdateParams`]).
    pub scratch: Option<usize>,
    passes: [(&'static str, Launch); MAX_PASSES],
    count: usize,
}

impl UpdatePlan {
    /// The kernels to launch, in order, with their shapes.
    pub(crate) fn passes(&self) -> &[(&'static str, Launch)] {
        &self.passes[..self.count]
    }

    /// The parameters of an elementwise rule's kernel.
    pub(crate) fn params(&self, at: &UpdateAddresses) -> UpdateParams {
        (
            self.n,
            self.args,
            at.value,
            at.grad,
            at.slots[0],
            at.slots[1],
            at.slots[2],
            at.accumulator,
            at.ema,
            at.norm_sum,
        )
    }

    /// The parameters of every pass of a rule in several passes, with the scratch buffer at
    /// `scratch`.
    pub(crate) fn pass_params(&self, at: &UpdateAddresses, scratch: u64) -> PassParams {
        let p = self.params(at);
        (
            p.0, p.1, p.2, p.3, p.4, p.5, p.6, p.7, p.8, p.9, scratch, self.dims,
        )
    }
}

/// The plan of `update`'s kernel (or, for Lamb and Adafactor, its passes) over a variable of
/// `n` values with `stages` around the rule; `slots` tells which of the variable's slots exist
/// (at most three: `update.cu`'s kernels take three, and no rule has more); `factors` is
/// Adafactor's factoring of the variable. `Ok(None)` for an empty variable; `Err(())` for slots
/// the kernels cannot take.
#[allow(clippy::result_unit_err)]
pub(crate) fn plan(
    update: &DeviceUpdate,
    stages: &Stages,
    n: usize,
    factors: Option<(usize, usize, usize)>,
    slots: &[bool],
) -> Result<Option<UpdatePlan>, ()> {
    if n == 0 {
        return Ok(None);
    }
    if slots.len() > 3 {
        return Err(());
    }
    let elements = Launch::for_elements(n);
    let mut plan = UpdatePlan {
        n,
        args: UpdateArgs::new(update, stages),
        dims: FactorDims::default(),
        scratch: None,
        passes: [(update.kernel.name(), elements); MAX_PASSES],
        count: 1,
    };
    let mut push = |name: &'static str, shape: Launch| {
        plan.passes[plan.count] = (name, shape);
        plan.count += 1;
    };
    match update.kernel {
        UpdateKernel::Lamb => {
            push(LAMB_RATIO, ONE_BLOCK);
            push(LAMB_APPLY, elements);
            plan.scratch = Some(1);
        }
        UpdateKernel::Adafactor => {
            let dims = factors.map_or(FactorDims::default(), |(batches, rows, cols)| FactorDims {
                batches,
                rows,
                cols,
            });
            let factored = dims.rows > 0;
            let has = |k: usize| slots.get(k).copied().unwrap_or(false);
            if !has(2) || (factored && !(has(0) && has(1))) {
                return Err(());
            }
            let items = |count: usize| Launch::for_elements(count.max(1));
            if factored {
                push(
                    ADAFACTOR_FACTORS,
                    items(dims.batches * (dims.rows + dims.cols)),
                );
                push(ADAFACTOR_ROW_MEANS, items(dims.batches));
                push(ADAFACTOR_VELOCITY, elements);
            }
            push(ADAFACTOR_SCALES, ONE_BLOCK);
            push(ADAFACTOR_APPLY, elements);
            plan.dims = dims;
            plan.scratch = Some(2 + dims.batches);
        }
        _ => {}
    }
    Ok(Some(plan))
}

/// `keras_sum_squares` adding the sum of squares of the `n` floats at `grad` to the `f64` at
/// `sum`: one block of 1024 threads, as its tree reduction requires. `None` for `n == 0`.
pub(crate) fn sum_squares(n: usize, grad: u64, sum: u64) -> Option<(Launch, (usize, u64, u64))> {
    (n > 0).then_some((ONE_BLOCK, (n, grad, sum)))
}

/// `keras_unscale`: `grad = grad / factor` over `n` floats. `None` for `n == 0`.
pub(crate) fn unscale(n: usize, factor: f32, grad: u64) -> Option<(Launch, (usize, f32, u64))> {
    (n > 0).then(|| (Launch::for_elements(n), (n, factor, grad)))
}

/// `keras_accumulate`: `grad = (grad + accumulator) / steps`, `accumulator = 0`, over `n` floats.
/// `None` for `n == 0`.
pub(crate) fn accumulate(
    n: usize,
    steps: f32,
    grad: u64,
    accumulator: u64,
) -> Option<(Launch, (usize, f32, u64, u64))> {
    (n > 0).then(|| (Launch::for_elements(n), (n, steps, grad, accumulator)))
}
