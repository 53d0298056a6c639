//! The optimizer's update of one variable, run where the variable lives.
//!
//! The generic definition of each rule is its [`UpdateRule::update`](crate::optimizers::UpdateRule::update)
//! (the Keras-exact formula over slices). Beside it:
//! - `cpu_kernel.rs`: that formula run in place on the variable's own buffers (its value, its
//!   gradient, which is zeroed for the next step, and its slots), piece by piece while they are in
//!   cache, on rayon's threads for large variables, inside the base optimizer's [`Stages`]
//!   (accumulation, clipping, weight decay, EMA); a rule that is not elementwise (Lamb,
//!   Adafactor) over the whole variable at once, inside the same stages;
//! - `cuda_kernel.rs` and `update.cu`: one CUDA kernel per elementwise rule (the same
//!   arithmetic, compiled without FMA contraction) with the same stages, launched on the
//!   device's stream with the scalars of a [`DeviceUpdate`], and the sums of squares a norm clip
//!   reads; Lamb and Adafactor take a few passes each, their norms and means reduced on the
//!   device into a small buffer the next pass reads (no host read); the build script compiles
//!   `update.cu` to PTX with `nvcc`.
//!
//! [`KerasDevice::try_update_variable`](crate::device::KerasDevice::try_update_variable) picks the kernel.

mod cpu_kernel;
#[cfg(feature = "cuda")]
mod cuda_kernel;
#[cfg(all(test, feature = "cuda-emulation"))]
mod emulated;
#[cfg(any(feature = "cuda", all(test, feature = "cuda-emulation")))]
mod launch;
mod rule_step;
mod var_buffers;

pub(crate) use cpu_kernel::{update_in_place, update_whole, VarPieces};
#[cfg(feature = "cuda")]
pub(crate) use cuda_kernel::{
    launch_accumulate, launch_sum_squares, launch_unscale, launch_update,
};
pub use rule_step::{RuleStep, Slots, MAX_SLOTS};
pub use var_buffers::VarBuffers;

/// The CUDA kernels of `update.cu`: one per elementwise rule, a few passes for Lamb and
/// Adafactor (whose updates need norms, or row and column means, of the whole variable).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum UpdateKernel {
    /// `keras.optimizers.SGD` (flags: [`DeviceUpdate::MOMENTUM`], [`DeviceUpdate::NESTEROV`]).
    Sgd,
    /// `Adam` and `AdamW` (flag: [`DeviceUpdate::AMSGRAD`]).
    Adam,
    /// `Adamax`.
    Adamax,
    /// `Nadam`.
    Nadam,
    /// `RMSprop` (flags: [`DeviceUpdate::MOMENTUM`], [`DeviceUpdate::CENTERED`]).
    RmsProp,
    /// `Adagrad`.
    Adagrad,
    /// `Adadelta`.
    Adadelta,
    /// `Lion`.
    Lion,
    /// `Ftrl`.
    Ftrl,
    /// `Lamb`: the moments, then the trust ratio's two sums of squares (one block), then the
    /// update with the ratio read on the device.
    Lamb,
    /// `Adafactor`: the gradient's preparation, the factored (row and column) or full second
    /// moment, the step size and the update's RMS clip (one block), then the update.
    Adafactor,
}

impl UpdateKernel {
    /// Every kernel, in the order of [`UpdateKernel::name`]'s table.
    pub const ALL: [UpdateKernel; 11] = [
        UpdateKernel::Sgd,
        UpdateKernel::Adam,
        UpdateKernel::Adamax,
        UpdateKernel::Nadam,
        UpdateKernel::RmsProp,
        UpdateKernel::Adagrad,
        UpdateKernel::Adadelta,
        UpdateKernel::Lion,
        UpdateKernel::Ftrl,
        UpdateKernel::Lamb,
        UpdateKernel::Adafactor,
    ];

    /// The kernel's symbol in `update.cu` (the first pass of Lamb's and Adafactor's).
    pub const fn name(self) -> &'static str {
        match self {
            UpdateKernel::Sgd => "keras_sgd_update",
            UpdateKernel::Adam => "keras_adam_update",
            UpdateKernel::Adamax => "keras_adamax_update",
            UpdateKernel::Nadam => "keras_nadam_update",
            UpdateKernel::RmsProp => "keras_rmsprop_update",
            UpdateKernel::Adagrad => "keras_adagrad_update",
            UpdateKernel::Adadelta => "keras_adadelta_update",
            UpdateKernel::Lion => "keras_lion_update",
            UpdateKernel::Ftrl => "keras_ftrl_update",
            UpdateKernel::Lamb => "keras_lamb_moments",
            UpdateKernel::Adafactor => "keras_adafactor_prepare",
        }
    }
}

/// How many scalars a [`DeviceUpdate`] carries.
pub const UPDATE_SCALARS: usize = 10;

/// One step of a rule as its device kernels take it: which kernel, the step's
/// scalars (in the order the kernel reads them, see `update.cu`) and the rule's flags.
///
/// # Examples
/// ```
/// use keras_core::kernels::{DeviceUpdate, UpdateKernel};
/// let sgd = DeviceUpdate::new(UpdateKernel::Sgd, &[0.01, 0.9], DeviceUpdate::MOMENTUM);
/// assert_eq!(sgd.scalars[..2], [0.01, 0.9]);
/// assert!(sgd.has(DeviceUpdate::MOMENTUM));
/// assert!(!sgd.has(DeviceUpdate::NESTEROV));
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DeviceUpdate {
    /// The kernel.
    pub kernel: UpdateKernel,
    /// The step's scalars; unused ones are zero.
    pub scalars: [f32; UPDATE_SCALARS],
    /// The rule's flags (`MOMENTUM`, `NESTEROV`, `AMSGRAD`, `CENTERED`).
    pub flags: u32,
}

impl DeviceUpdate {
    /// SGD and RMSprop: a momentum slot is kept.
    pub const MOMENTUM: u32 = 1;
    /// SGD: Nesterov momentum.
    pub const NESTEROV: u32 = 2;
    /// Adam: AMSGrad's running maximum of the second moment.
    pub const AMSGRAD: u32 = 4;
    /// RMSprop: the centered variant.
    pub const CENTERED: u32 = 8;

    /// `kernel` with `scalars` (at most [`UPDATE_SCALARS`]; the rest are zero) and `flags`.
    pub fn new(kernel: UpdateKernel, scalars: &[f32], flags: u32) -> Self {
        let mut all = [0.0; UPDATE_SCALARS];
        let n = scalars.len().min(UPDATE_SCALARS);
        debug_assert_eq!(n, scalars.len(), "too many scalars for one update");
        all[..n].copy_from_slice(&scalars[..n]);
        Self {
            kernel,
            scalars: all,
            flags,
        }
    }

    /// Whether `flag` is set.
    pub fn has(&self, flag: u32) -> bool {
        self.flags & flag != 0
    }

    /// A call that only accumulates the gradient (see [`Accumulate`]): no rule runs, so any
    /// kernel does; its scalars are unused.
    pub fn accumulate_only() -> Self {
        Self::new(UpdateKernel::Sgd, &[], 0)
    }
}

/// Decoupled weight decay folded into a variable's update: `w -= w * weight_decay *
/// learning_rate` before the rule's update (Keras's `_apply_weight_decay`, same arithmetic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Decay {
    /// `weight_decay`.
    pub weight_decay: f32,
    /// The step's learning rate.
    pub learning_rate: f32,
}

impl Decay {
    /// Applies the decay to `values`.
    #[inline]
    pub fn apply(&self, values: &mut [f32]) {
        let (wd, lr) = (self.weight_decay, self.learning_rate);
        for x in values {
            *x -= *x * wd * lr;
        }
    }
}

/// Gradient accumulation (`gradient_accumulation_steps`): on a step that only accumulates, the
/// gradient is added to the accumulator and nothing is updated; on an update step the gradient
/// becomes `(g + accumulator) / steps` and the accumulator is cleared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Accumulate {
    /// `gradient_accumulation_steps`, as `f32`.
    pub steps: f32,
    /// Whether this call updates the variable.
    pub update: bool,
}

impl Accumulate {
    /// This call's accumulation of `grad` into `accumulator` (the optimizer's arithmetic, used by
    /// the host pipeline and the CPU kernel alike): on an update step `grad` becomes
    /// `(grad + accumulator) / steps` and the accumulator is cleared; otherwise `grad` is added
    /// to it.
    #[inline]
    pub fn apply(&self, grad: &mut [f32], accumulator: &mut [f32]) {
        for (g, a) in grad.iter_mut().zip(accumulator.iter_mut()) {
            if self.update {
                *g = (*g + *a) / self.steps;
                *a = 0.0;
            } else {
                *a += *g;
            }
        }
    }
}

/// A loss scale's undo: every element of `grad` divided by `factor` (Keras's `apply` divides
/// the gradients by `loss_scale_factor` before anything else).
#[inline]
pub fn unscale(grad: &mut [f32], factor: f32) {
    grad.iter_mut().for_each(|g| *g /= factor);
}

/// `clipvalue`: every element of `grad` into `[-c, c]` (a NaN stays NaN).
#[inline]
pub fn clip_value(grad: &mut [f32], c: f32) {
    for x in grad {
        if *x < -c {
            *x = -c;
        } else if *x > c {
            *x = c;
        }
    }
}

/// The exponential moving average of the variable, after its update (Keras's
/// `_update_model_variables_moving_average`): `avg = momentum * avg + rest * w`, then `w = avg`
/// on the steps `ema_overwrite_frequency` names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ema {
    /// This step's momentum (0 on the first step, which copies the variable).
    pub momentum: f32,
    /// `1 - momentum`.
    pub rest: f32,
    /// Whether the variable is overwritten by its average on this step.
    pub overwrite: bool,
}

/// `clipnorm` (each variable's gradient to an L2 norm of at most `clip`) or `global_clipnorm`
/// (all gradients to a joint norm of at most `clip`), from the sum of squares of the gradient(s)
/// accumulated in `f64` (Keras's `BaseOptimizer._clip_gradients`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NormClip {
    /// `global_clipnorm` (else `clipnorm`).
    pub global: bool,
    /// The norm bound.
    pub clip: f32,
    /// `1 / clip`, rounded from `f64` (the global form's `min(1 / norm, 1 / clip)`).
    pub inv_clip: f32,
}

impl NormClip {
    /// What the gradient elements are multiplied by, given the sum of squares of the gradient
    /// (`clipnorm`) or of all gradients (`global_clipnorm`).
    pub fn scale(&self, sum_squares: f64) -> GradScale {
        if self.global {
            let norm = (sum_squares as f32).sqrt();
            // Keras adds `norm - norm`: a no-op unless the norm is infinite or NaN.
            GradScale::Mul(if norm.is_finite() {
                self.clip * (1.0 / norm).min(self.inv_clip)
            } else {
                f32::NAN
            })
        } else {
            let l2sum = sum_squares as f32;
            let l2norm = if l2sum > 0.0 { l2sum.sqrt() } else { l2sum };
            GradScale::MulDiv {
                mul: self.clip,
                div: l2norm.max(self.clip),
            }
        }
    }
}

/// A gradient's scaling by a norm clip (see [`NormClip::scale`]), in Keras's arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GradScale {
    /// `g * mul / div` (`clipnorm`).
    MulDiv {
        /// The clip.
        mul: f32,
        /// `max(norm, clip)`.
        div: f32,
    },
    /// `g * scale` (`global_clipnorm`).
    Mul(f32),
}

impl GradScale {
    /// Scales `grad` in place.
    #[inline]
    pub fn apply(&self, grad: &mut [f32]) {
        match *self {
            GradScale::MulDiv { mul, div } => grad.iter_mut().for_each(|x| *x = *x * mul / div),
            GradScale::Mul(scale) => grad.iter_mut().for_each(|x| *x *= scale),
        }
    }
}

/// Sum of squares of `x`, accumulated in `f64` in order (the host optimizer's arithmetic).
pub fn sum_squares(x: &[f32]) -> f64 {
    x.iter().map(|&v| f64::from(v) * f64::from(v)).sum()
}

impl Ema {
    /// This step's momentum for Keras's `iterations` (0 on the first step) and whether
    /// `overwrite_frequency` overwrites the variables on it.
    pub fn at(iterations: u64, ema_momentum: f64, overwrite_frequency: Option<u64>) -> Self {
        let momentum = if iterations != 0 {
            ema_momentum as f32
        } else {
            0.0
        };
        Ema {
            momentum,
            rest: 1.0 - momentum,
            overwrite: overwrite_frequency.is_some_and(|f| (iterations + 1).is_multiple_of(f)),
        }
    }

    /// Updates the averages `avg` from `values`, then overwrites `values` by them when this
    /// step overwrites.
    #[inline]
    pub fn apply(&self, values: &mut [f32], avg: &mut [f32]) {
        for (a, &x) in avg.iter_mut().zip(values.iter()) {
            *a = self.momentum * *a + self.rest * x;
        }
        if self.overwrite {
            values.copy_from_slice(avg);
        }
    }
}

/// The base optimizer's elementwise stages around a rule's update of one variable, in Keras's
/// order (`BaseOptimizer.apply`): the loss scale's undo, gradient accumulation, clipping (`clipvalue`, or a norm clip
/// from sums of squares taken in an earlier pass), decoupled weight decay, the rule's update, the
/// moving average. The default is none of them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Stages {
    /// The loss scale factor (`loss_scale_factor`): the gradient is divided by it first, on
    /// every call (those that only accumulate included), as the host optimizer does.
    pub unscale: Option<f32>,
    /// Gradient accumulation, with the variable's accumulator.
    pub accumulate: Option<Accumulate>,
    /// `clipvalue`: every gradient element into `[-c, c]` (update steps only).
    pub clip_value: Option<f32>,
    /// `clipnorm` / `global_clipnorm` (update steps only). The gradient's sum of squares is
    /// taken over the prepared (accumulated) gradient in a pass before the update, so a stage
    /// set with a norm clip has no `accumulate`.
    pub clip_norm: Option<NormClip>,
    /// Decoupled weight decay (update steps only).
    pub decay: Option<Decay>,
    /// The moving average, with the variable's average.
    pub ema: Option<Ema>,
}

impl Stages {
    /// Whether this call runs the rule's update (not a step that only accumulates).
    pub fn updates(&self) -> bool {
        self.accumulate.is_none_or(|a| a.update)
    }
}
