//! Building an optimizer: hyper-parameters, base options, validation.

use super::base_options::BaseOptions;
use super::learning_rate::{check_learning_rate, LearningRate};
use super::schedules::{LearningRateSchedule, NoSchedule};
use super::{KerasOptimizer, UpdateRule};
use crate::{Error, Result};

/// Collects an optimizer's settings; [`build`](OptimizerBuilder::build) validates them and
/// returns the [`KerasOptimizer`].
///
/// Each optimizer's `new()` (e.g. [`Adam::new`](super::Adam::new)) returns a builder holding
/// Keras's defaults; its own hyper-parameters have setters on `OptimizerBuilder<ThatRule, S>`,
/// the generic Keras options (clipping, weight decay, EMA, ...) are here.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{Adam, Optimizer};
/// let opt = Adam::new()
///     .with_learning_rate(0.01)
///     .with_beta_1(0.8)
///     .with_global_clipnorm(1.0)
///     .with_ema(0.99)
///     .build()
///     .unwrap();
/// assert_eq!(opt.learning_rate(), 0.01);
/// assert!(Adam::new().with_clipnorm(1.0).with_clipvalue(1.0).build().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct OptimizerBuilder<U, S = NoSchedule> {
    pub(crate) rule: U,
    pub(crate) learning_rate: LearningRate<S>,
    pub(crate) options: BaseOptions,
}

impl<U: UpdateRule> OptimizerBuilder<U> {
    /// A builder for `rule` with a constant learning rate and no base option set.
    pub fn new(rule: U, learning_rate: f32) -> Self {
        Self {
            rule,
            learning_rate: LearningRate::Constant(learning_rate),
            options: BaseOptions::default(),
        }
    }
}

impl<U: UpdateRule, S: LearningRateSchedule> OptimizerBuilder<U, S> {
    /// Validates every setting and builds the optimizer. Slots are created on the first
    /// [`apply`](super::Optimizer::apply).
    ///
    /// Fails with [`Error::InvalidArgument`](crate::Error::InvalidArgument) for a negative or
    /// NaN learning rate, an out-of-range hyper-parameter, more than one clipping option,
    /// `gradient_accumulation_steps` below 2, ...
    pub fn build(self) -> Result<KerasOptimizer<U, S>> {
        if let LearningRate::Constant(lr) = self.learning_rate {
            check_learning_rate(lr)?;
        }
        self.rule.validate()?;
        if U::NEEDS_WEIGHT_DECAY && self.options.weight_decay.is_none() {
            return Err(Error::invalid(
                "weight_decay",
                format!(
                    "`{}` needs a weight decay; set one with `with_weight_decay`",
                    U::NAME
                ),
            ));
        }
        let clipping = self.options.validate()?;
        Ok(KerasOptimizer::from_parts(
            self.rule,
            self.learning_rate,
            self.options,
            clipping,
        ))
    }

    /// The optimizer's own hyper-parameters.
    pub fn rule(&self) -> &U {
        &self.rule
    }

    /// A constant learning rate (replaces a schedule). Defaults to the optimizer's Keras
    /// default (`0.001`; SGD: `0.01`).
    pub fn with_learning_rate(self, learning_rate: f32) -> OptimizerBuilder<U, S> {
        OptimizerBuilder {
            learning_rate: LearningRate::Constant(learning_rate),
            ..self
        }
    }

    /// A learning-rate schedule, evaluated at every step. Defaults to none (a constant rate).
    pub fn with_schedule<S2: LearningRateSchedule>(self, schedule: S2) -> OptimizerBuilder<U, S2> {
        OptimizerBuilder {
            rule: self.rule,
            learning_rate: LearningRate::Schedule(schedule),
            options: self.options,
        }
    }

    /// Decoupled weight decay: before each update, `var -= var * weight_decay * lr`.
    /// Defaults to none (AdamW: `0.004`).
    pub fn with_weight_decay(mut self, weight_decay: f64) -> Self {
        self.options.weight_decay = Some(weight_decay);
        self
    }

    /// Turns weight decay off. Defaults to off (AdamW: on).
    pub fn without_weight_decay(mut self) -> Self {
        self.options.weight_decay = None;
        self
    }

    /// Variables whose name contains any of these strings get no weight decay (Keras's
    /// `exclude_from_weight_decay(var_names=...)`, with substring instead of regex matching).
    /// Defaults to none.
    pub fn with_exclude_from_weight_decay<I, T>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.options.exclude_from_weight_decay = names.into_iter().map(Into::into).collect();
        self
    }

    /// Clips each variable's gradient to this L2 norm. Defaults to none.
    pub fn with_clipnorm(mut self, clipnorm: f64) -> Self {
        self.options.clipnorm = Some(clipnorm);
        self
    }

    /// Clips every gradient element into `[-clipvalue, clipvalue]`. Defaults to none.
    pub fn with_clipvalue(mut self, clipvalue: f64) -> Self {
        self.options.clipvalue = Some(clipvalue);
        self
    }

    /// Clips all gradients together to this joint L2 norm. Defaults to none.
    pub fn with_global_clipnorm(mut self, global_clipnorm: f64) -> Self {
        self.options.global_clipnorm = Some(global_clipnorm);
        self
    }

    /// Keeps an exponential moving average of the variables with this momentum (Keras's
    /// `use_ema=True, ema_momentum=...`); [`finalize`](super::Optimizer::finalize) copies it
    /// into the variables. Defaults to off (momentum `0.99` when on).
    pub fn with_ema(mut self, ema_momentum: f64) -> Self {
        self.options.use_ema = true;
        self.options.ema_momentum = ema_momentum;
        self
    }

    /// With EMA on, overwrite the variables with their average every `frequency` steps.
    /// Defaults to never.
    pub fn with_ema_overwrite_frequency(mut self, frequency: u64) -> Self {
        self.options.ema_overwrite_frequency = Some(frequency);
        self
    }

    /// The loss is multiplied by this factor before backward and gradients are divided by it.
    /// Defaults to none (a factor of 1).
    pub fn with_loss_scale_factor(mut self, factor: f64) -> Self {
        self.options.loss_scale_factor = Some(factor);
        self
    }

    /// Update the variables only every `steps` calls, with the mean gradient of those calls.
    /// Defaults to none (update on every call).
    pub fn with_gradient_accumulation_steps(mut self, steps: u64) -> Self {
        self.options.gradient_accumulation_steps = Some(steps);
        self
    }

    /// What to do with variables marked without gradient ([`VarInfo::has_grad`](super::VarInfo)):
    /// `false` fails the step with [`Error::MissingGradient`](crate::Error::MissingGradient);
    /// `true` skips them as Keras does (no update, no clipping or weight decay; EMA still
    /// tracks them). Defaults to `false`.
    pub fn with_allow_missing_gradients(mut self, allow: bool) -> Self {
        self.options.allow_missing_gradients = allow;
        self
    }
}

#[cfg(test)]
mod tests {
    use crate::optimizers::{Optimizer, Sgd};
    use crate::Error;

    #[test]
    fn negative_or_nan_learning_rates_are_rejected_at_build() {
        for lr in [-0.1, f32::NAN] {
            let err = Sgd::new().with_learning_rate(lr).build().unwrap_err();
            assert!(matches!(
                err,
                Error::InvalidArgument {
                    name: "learning_rate",
                    ..
                }
            ));
        }
    }

    #[test]
    fn more_than_one_clipping_option_is_rejected_at_build() {
        let err = Sgd::new()
            .with_clipnorm(1.0)
            .with_global_clipnorm(1.0)
            .build()
            .unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { .. }));
    }

    #[test]
    fn gradient_accumulation_of_zero_or_one_step_is_rejected_at_build() {
        for steps in [0, 1] {
            let err = Sgd::new()
                .with_gradient_accumulation_steps(steps)
                .build()
                .unwrap_err();
            assert!(matches!(
                err,
                Error::InvalidArgument {
                    name: "gradient_accumulation_steps",
                    ..
                }
            ));
        }
    }

    #[test]
    fn ema_momentum_outside_the_unit_interval_is_rejected() {
        assert!(Sgd::new().with_ema(1.5).build().is_err());
        assert!(Sgd::new()
            .with_ema(0.5)
            .with_ema_overwrite_frequency(0)
            .build()
            .is_err());
    }

    #[test]
    fn a_constant_learning_rate_replaces_a_schedule() {
        let decay = crate::optimizers::schedules::ExponentialDecay::new(1.0, 1, 0.5).unwrap();
        let opt = Sgd::new()
            .with_schedule(decay)
            .with_learning_rate(0.3)
            .build()
            .unwrap();
        assert_eq!(opt.learning_rate(), 0.3);
    }
}
