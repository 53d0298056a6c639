//! An optimizer as Keras's files describe it: its class and `get_config()` (the `.keras`
//! file's compile config) and the order of its variables in `model.weights.h5`'s
//! `optimizer/vars` (`iteration`, the learning rate when it is a constant, then each group of
//! slots interleaved variable by variable).

use serde_json::{json, Map, Value};

use super::clipping::Clipping;
use super::learning_rate::LearningRate;
use super::schedules::LearningRateSchedule;
use super::{KerasOptimizer, Optimizer, UpdateRule};

/// What Keras's files hold of an optimizer (see [`Optimizer::keras_spec`]).
#[derive(Debug, Clone, PartialEq)]
pub struct KerasOptimizerSpec {
    /// Keras's class name (`"Adam"`).
    pub class_name: &'static str,
    /// Keras's `optimizer.get_config()`.
    pub config: Map<String, Value>,
    /// Whether Keras keeps the learning rate as a variable (`optimizer/vars/1`): a constant
    /// rate, not a schedule.
    pub learning_rate_variable: bool,
    /// The slots in Keras's creation order: groups of slot names, each group interleaved
    /// variable by variable (Adam: `momentum`, `velocity` of the first variable, then of the
    /// second, ...).
    pub slot_groups: Vec<&'static [&'static str]>,
    /// Why the state cannot be laid out as Keras's variables, when it cannot (exponential moving
    /// averages, gradient accumulation and extra scalars are not mapped yet); the config is
    /// still written.
    pub state_unsupported: Option<String>,
}

impl<U: UpdateRule, S: LearningRateSchedule> KerasOptimizer<U, S> {
    /// See [`Optimizer::keras_spec`].
    pub(crate) fn spec(&self) -> Option<KerasOptimizerSpec> {
        let (class_name, rule_config) = self.rule.keras_config()?;
        let mut config = Map::new();
        config.insert("name".into(), json!(U::NAME.to_lowercase()));
        config.insert("learning_rate".into(), json!(self.learning_rate()));
        config.insert("weight_decay".into(), json!(self.options.weight_decay));
        let (clipnorm, global_clipnorm, clipvalue) = match self.clipping {
            Clipping::None => (None, None, None),
            Clipping::Norm(c) => (Some(c), None, None),
            Clipping::GlobalNorm(c) => (None, Some(c), None),
            Clipping::Value(c) => (None, None, Some(c)),
        };
        config.insert("clipnorm".into(), json!(clipnorm));
        config.insert("global_clipnorm".into(), json!(global_clipnorm));
        config.insert("clipvalue".into(), json!(clipvalue));
        config.insert("use_ema".into(), json!(self.options.use_ema));
        config.insert("ema_momentum".into(), json!(self.options.ema_momentum));
        config.insert(
            "ema_overwrite_frequency".into(),
            json!(self.options.ema_overwrite_frequency),
        );
        config.insert("loss_scale_factor".into(), Value::Null);
        config.insert(
            "gradient_accumulation_steps".into(),
            json!(self.options.gradient_accumulation_steps),
        );
        config.extend(rule_config);
        let state_unsupported = if self.options.use_ema {
            Some("exponential moving averages (use_ema)".to_string())
        } else if self.options.gradient_accumulation_steps.is_some() {
            Some("gradient accumulation".to_string())
        } else if !self.rule.scalars().is_empty() {
            Some(format!("{class_name}'s extra scalars"))
        } else {
            None
        };
        Some(KerasOptimizerSpec {
            class_name,
            config,
            learning_rate_variable: matches!(self.learning_rate, LearningRate::Constant(_)),
            slot_groups: self.rule.keras_slot_groups(),
            state_unsupported,
        })
    }
}
