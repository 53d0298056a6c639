//! Keras's twelve optimizers built from a golden config (`{"class": "Adam", ...every
//! parameter...}`, as `optimizers.json` and `fit.json` write them): [`rule_from`] reads the
//! class and its own hyper-parameters into an [`AnyRule`], [`with_rule!`] runs generic code on
//! the builder inside, and [`AnyOptimizer`] is any of them built, learning rate (a number or a
//! schedule) and base options included, as one type the trainer takes.

use keras_core::device::KerasDevice;
use keras_core::optimizers::{
    Adadelta, Adafactor, Adagrad, Adam, AdamW, Adamax, DeviceState, FlatParams, Ftrl,
    KerasOptimizer, KerasOptimizerSpec, Lamb, Lion, Nadam, Optimizer, OptimizerBuilder, RMSprop,
    ResidentVars, Sgd, Variables,
};

use super::keras_config::{base_options, with_learning_rate, AnySchedule, Cfg};

/// The builder of one of Keras's optimizers, with the hyper-parameters of its class set (no
/// learning rate or base option yet).
pub enum AnyRule {
    Sgd(OptimizerBuilder<Sgd>),
    Adam(OptimizerBuilder<Adam>),
    AdamW(OptimizerBuilder<AdamW>),
    RMSprop(OptimizerBuilder<RMSprop>),
    Adagrad(OptimizerBuilder<Adagrad>),
    Adadelta(OptimizerBuilder<Adadelta>),
    Adamax(OptimizerBuilder<Adamax>),
    Nadam(OptimizerBuilder<Nadam>),
    Lion(OptimizerBuilder<Lion>),
    Ftrl(OptimizerBuilder<Ftrl>),
    Lamb(OptimizerBuilder<Lamb>),
    Adafactor(OptimizerBuilder<Adafactor>),
}

/// Evaluates `$body` with `$b` bound to the builder inside the [`AnyRule`] `$rule`, whatever
/// its optimizer (the body is generic code, compiled once per optimizer).
macro_rules! with_rule {
    ($rule:expr, |$b:ident| $body:expr) => {{
        use $crate::common::any_optimizer::AnyRule;
        match $rule {
            AnyRule::Sgd($b) => $body,
            AnyRule::Adam($b) => $body,
            AnyRule::AdamW($b) => $body,
            AnyRule::RMSprop($b) => $body,
            AnyRule::Adagrad($b) => $body,
            AnyRule::Adadelta($b) => $body,
            AnyRule::Adamax($b) => $body,
            AnyRule::Nadam($b) => $body,
            AnyRule::Lion($b) => $body,
            AnyRule::Ftrl($b) => $body,
            AnyRule::Lamb($b) => $body,
            AnyRule::Adafactor($b) => $body,
        }
    }};
}
// Not every test crate of `common` runs generic code on a rule.
#[allow(unused_imports)]
pub(crate) use with_rule;

/// The Adam family's shared hyper-parameters (`beta_1`, `beta_2`, `epsilon`) from the config.
macro_rules! with_moments {
    ($builder:expr, $c:expr) => {
        $builder
            .with_beta_1($c.f64("beta_1")?)
            .with_beta_2($c.f64("beta_2")?)
            .with_epsilon($c.f64("epsilon")?)
    };
}

/// The optimizer class at `class` in `c` with its own hyper-parameters read from `c`; an
/// unknown class is an `Err` naming it.
pub fn rule_from(c: &Cfg) -> Result<AnyRule, String> {
    let class = c.get("class");
    Ok(
        match class.as_str().ok_or(format!("optimizer class {class}"))? {
            "SGD" => AnyRule::Sgd(
                Sgd::new()
                    .with_momentum(c.f64("momentum")?)
                    .with_nesterov(c.bool("nesterov")?),
            ),
            "Adam" => AnyRule::Adam(with_moments!(Adam::new(), c).with_amsgrad(c.bool("amsgrad")?)),
            "AdamW" => {
                AnyRule::AdamW(with_moments!(AdamW::new(), c).with_amsgrad(c.bool("amsgrad")?))
            }
            "RMSprop" => AnyRule::RMSprop(
                RMSprop::new()
                    .with_rho(c.f64("rho")?)
                    .with_momentum(c.f64("momentum")?)
                    .with_epsilon(c.f64("epsilon")?)
                    .with_centered(c.bool("centered")?),
            ),
            "Adagrad" => AnyRule::Adagrad(
                Adagrad::new()
                    .with_initial_accumulator_value(c.f64("initial_accumulator_value")?)
                    .with_epsilon(c.f64("epsilon")?),
            ),
            "Adadelta" => AnyRule::Adadelta(
                Adadelta::new()
                    .with_rho(c.f64("rho")?)
                    .with_epsilon(c.f64("epsilon")?),
            ),
            "Adamax" => AnyRule::Adamax(with_moments!(Adamax::new(), c)),
            "Nadam" => AnyRule::Nadam(with_moments!(Nadam::new(), c)),
            "Lion" => AnyRule::Lion(
                Lion::new()
                    .with_beta_1(c.f64("beta_1")?)
                    .with_beta_2(c.f64("beta_2")?),
            ),
            "Ftrl" => AnyRule::Ftrl(
                Ftrl::new()
                    .with_learning_rate_power(c.f64("learning_rate_power")?)
                    .with_initial_accumulator_value(c.f64("initial_accumulator_value")?)
                    .with_l1_regularization_strength(c.f64("l1_regularization_strength")?)
                    .with_l2_regularization_strength(c.f64("l2_regularization_strength")?)
                    .with_l2_shrinkage_regularization_strength(
                        c.f64("l2_shrinkage_regularization_strength")?,
                    )
                    .with_beta(c.f64("beta")?),
            ),
            "Lamb" => AnyRule::Lamb(with_moments!(Lamb::new(), c)),
            "Adafactor" => AnyRule::Adafactor(
                Adafactor::new()
                    .with_beta_2_decay(c.f64("beta_2_decay")?)
                    .with_epsilon_1(c.f64("epsilon_1")?)
                    .with_epsilon_2(c.f64("epsilon_2")?)
                    .with_clip_threshold(c.f64("clip_threshold")?)
                    .with_relative_step(c.bool("relative_step")?),
            ),
            other => return Err(format!("unknown optimizer class {other}")),
        },
    )
}

/// Defines [`AnyOptimizer`] (one variant per optimizer, each with a constant or scheduled
/// learning rate), its `From` conversions and `each!`, which runs an expression on the
/// optimizer inside whatever its variant.
macro_rules! any_optimizer {
    ($($name:ident)*) => {
        /// Any of Keras's optimizers, built: one type for the trainer, whose every
        /// [`Optimizer`] method is the inner optimizer's.
        pub enum AnyOptimizer {
            $($name(KerasOptimizer<$name, AnySchedule>),)*
        }

        $(impl From<KerasOptimizer<$name, AnySchedule>> for AnyOptimizer {
            fn from(o: KerasOptimizer<$name, AnySchedule>) -> Self {
                AnyOptimizer::$name(o)
            }
        })*

        macro_rules! each {
            ($self:expr, $o:ident => $e:expr) => {
                match $self {
                    $(AnyOptimizer::$name($o) => $e,)*
                }
            };
        }
    };
}

any_optimizer!(Sgd Adam AdamW RMSprop Adagrad Adadelta Adamax Nadam Lion Ftrl Lamb Adafactor);

impl AnyOptimizer {
    /// The optimizer an optimizer config describes: its class and hyper-parameters, its
    /// learning rate (a number or a schedule object) and Keras's base options, after checking
    /// that every key of the config was read.
    pub fn from_config(c: &Cfg) -> Result<Self, String> {
        let rule = rule_from(c)?;
        with_rule!(rule, |b| {
            let b = with_learning_rate(base_options(b, c)?, c)?;
            c.check_all_used("optimizer")?;
            Ok(AnyOptimizer::from(b.build().map_err(|e| e.to_string())?))
        })
    }
}

impl Optimizer for AnyOptimizer {
    fn apply(&mut self, params: &mut FlatParams) -> keras_core::Result<()> {
        each!(self, o => o.apply(params))
    }

    fn apply_resident<D: KerasDevice, V: ResidentVars<D>>(
        &mut self,
        params: &FlatParams,
        vars: &mut V,
        state: &mut DeviceState<D>,
    ) -> keras_core::Result<bool> {
        each!(self, o => o.apply_resident(params, vars, state))
    }

    fn apply_resident_if_finite<D: KerasDevice, V: ResidentVars<D>>(
        &mut self,
        params: &FlatParams,
        vars: &mut V,
        state: &mut DeviceState<D>,
    ) -> keras_core::Result<Option<bool>> {
        each!(self, o => o.apply_resident_if_finite(params, vars, state))
    }

    fn sync_resident<D: KerasDevice>(
        &mut self,
        state: &mut DeviceState<D>,
        device: &D,
    ) -> keras_core::Result<()> {
        each!(self, o => o.sync_resident(state, device))
    }

    fn learning_rate(&self) -> f32 {
        each!(self, o => o.learning_rate())
    }

    fn set_learning_rate(&mut self, lr: f32) -> keras_core::Result<()> {
        each!(self, o => o.set_learning_rate(lr))
    }

    fn iterations(&self) -> u64 {
        each!(self, o => o.iterations())
    }

    fn finalize(&mut self, params: &mut FlatParams) {
        each!(self, o => o.finalize(params))
    }

    fn loss_scale(&self) -> f32 {
        each!(self, o => o.loss_scale())
    }

    fn state(&self) -> Vec<(String, Vec<f32>)> {
        each!(self, o => o.state())
    }

    fn load_state(&mut self, state: &[(String, Vec<f32>)]) -> keras_core::Result<()> {
        each!(self, o => o.load_state(state))
    }

    fn keras_spec(&self) -> Option<KerasOptimizerSpec> {
        each!(self, o => o.keras_spec())
    }

    fn variables(&self) -> Option<Variables> {
        each!(self, o => o.variables())
    }

    fn expect_variables(&mut self, variables: Variables) -> keras_core::Result<()> {
        each!(self, o => o.expect_variables(variables))
    }
}
