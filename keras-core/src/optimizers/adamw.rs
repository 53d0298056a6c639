//! `keras.optimizers.AdamW`.

use super::adam::AdamStep;
use super::moments::moment_setters;
use super::{Adam, OptimizerBuilder, Slots, StepContext, UpdateRule, VarInfo};
use crate::kernels::DeviceUpdate;
use crate::Result;

/// Adam with decoupled weight decay (Loshchilov & Hutter): Keras's [`Adam`] update, preceded by
/// the base optimizer's `var -= var * weight_decay * lr`, with `weight_decay` on by default
/// (`0.004`) and required.
///
/// # Examples
/// ```
/// use keras_core::optimizers::{AdamW, FlatParams, Optimizer};
/// let mut opt = AdamW::new().with_learning_rate(0.1).with_weight_decay(0.5).build().unwrap();
/// let mut params = FlatParams::from_layout([("w", &[1][..])]);
/// params.values[0] = 1.0; // zero gradient: only the decay moves the weight
/// opt.apply(&mut params).unwrap();
/// assert!((params.values[0] - 0.95).abs() < 1e-7);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct AdamW {
    adam: Adam,
}

impl AdamW {
    /// A builder with Keras's defaults: learning rate `0.001`, weight decay `0.004`, betas
    /// `0.9`/`0.999`, epsilon `1e-7`.
    pub fn new() -> OptimizerBuilder<AdamW> {
        OptimizerBuilder::new(AdamW::default(), AdamW::DEFAULT_LEARNING_RATE)
            .with_weight_decay(0.004)
    }

    /// The Adam hyper-parameters.
    pub fn adam(&self) -> &Adam {
        &self.adam
    }
}

moment_setters!(
    AdamW,
    adam.moments,
    beta_2: "Decay rate of the second moment",
    epsilon: "Added to `sqrt(v)`"
);

impl<S> OptimizerBuilder<AdamW, S> {
    /// Use the AMSGrad variant. Defaults to `false`.
    pub fn with_amsgrad(mut self, amsgrad: bool) -> Self {
        self.rule.adam.amsgrad = amsgrad;
        self
    }
}

impl UpdateRule for AdamW {
    const NAME: &'static str = "adamw";
    const ELEMENTWISE: bool = true;
    const DEVICE_KERNEL: bool = true;
    const NEEDS_WEIGHT_DECAY: bool = true;
    type Step = AdamStep;

    fn validate(&self) -> Result<()> {
        self.adam.validate()
    }

    fn keras_config(&self) -> Option<(&'static str, serde_json::Map<String, serde_json::Value>)> {
        Some(("AdamW", self.adam.keras_keys()))
    }

    fn keras_slot_groups(&self) -> Vec<&'static [&'static str]> {
        self.adam.keras_slot_groups()
    }

    fn slot_names(&self) -> &'static [&'static str] {
        self.adam.slot_names()
    }

    fn begin_step(&mut self, ctx: &StepContext) -> AdamStep {
        self.adam.begin_step(ctx)
    }

    fn device_update(&self, s: &AdamStep) -> Option<DeviceUpdate> {
        self.adam.device_update(s)
    }

    fn update(
        &self,
        s: &AdamStep,
        var: &VarInfo,
        value: &mut [f32],
        grad: &[f32],
        slots: Slots<'_>,
    ) {
        self.adam.update(s, var, value, grad, slots);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adamw_without_weight_decay_is_rejected() {
        let err = AdamW::new().without_weight_decay().build().unwrap_err();
        assert!(matches!(
            err,
            crate::Error::InvalidArgument {
                name: "weight_decay",
                ..
            }
        ));
    }

    #[test]
    fn adamw_validates_its_adam_hyper_parameters() {
        assert!(AdamW::new().with_beta_1(1.0).build().is_err());
        assert!(AdamW::new().build().is_ok());
    }
}
