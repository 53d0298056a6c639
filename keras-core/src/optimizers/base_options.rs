//! The options every Keras optimizer takes (`BaseOptimizer.__init__`'s keyword arguments).

use super::clipping::Clipping;
use super::update_rule::{check_positive, check_unit};
use crate::{Error, Result};

/// Keras's generic optimizer arguments, as set on an
/// [`OptimizerBuilder`](super::OptimizerBuilder).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BaseOptions {
    pub(crate) weight_decay: Option<f64>,
    pub(crate) exclude_from_weight_decay: Vec<String>,
    pub(crate) clipnorm: Option<f64>,
    pub(crate) clipvalue: Option<f64>,
    pub(crate) global_clipnorm: Option<f64>,
    pub(crate) use_ema: bool,
    pub(crate) ema_momentum: f64,
    pub(crate) ema_overwrite_frequency: Option<u64>,
    pub(crate) loss_scale_factor: Option<f64>,
    pub(crate) gradient_accumulation_steps: Option<u64>,
    pub(crate) allow_missing_gradients: bool,
}

impl Default for BaseOptions {
    fn default() -> Self {
        Self {
            weight_decay: None,
            exclude_from_weight_decay: Vec::new(),
            clipnorm: None,
            clipvalue: None,
            global_clipnorm: None,
            use_ema: false,
            ema_momentum: 0.99,
            ema_overwrite_frequency: None,
            loss_scale_factor: None,
            gradient_accumulation_steps: None,
            allow_missing_gradients: false,
        }
    }
}

impl BaseOptions {
    /// Checks every option and resolves the (single) clipping option.
    pub(crate) fn validate(&self) -> Result<Clipping> {
        if let Some(wd) = self.weight_decay {
            if !(wd >= 0.0 && wd.is_finite()) {
                return Err(Error::invalid(
                    "weight_decay",
                    format!("must be a finite number >= 0, got {wd}"),
                ));
            }
        }
        let set = [self.clipnorm, self.clipvalue, self.global_clipnorm]
            .iter()
            .filter(|c| c.is_some())
            .count();
        if set > 1 {
            return Err(Error::invalid(
                "clipnorm",
                format!(
                    "only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set, got \
                     clipnorm={:?}, clipvalue={:?}, global_clipnorm={:?}",
                    self.clipnorm, self.clipvalue, self.global_clipnorm
                ),
            ));
        }
        let clipping = match (self.clipnorm, self.clipvalue, self.global_clipnorm) {
            (Some(c), _, _) => {
                check_positive("clipnorm", c)?;
                Clipping::Norm(c)
            }
            (_, Some(c), _) => {
                check_positive("clipvalue", c)?;
                Clipping::Value(c)
            }
            (_, _, Some(c)) => {
                check_positive("global_clipnorm", c)?;
                Clipping::GlobalNorm(c)
            }
            _ => Clipping::None,
        };
        if self.use_ema {
            check_unit("ema_momentum", self.ema_momentum)?;
        }
        if self.ema_overwrite_frequency == Some(0) {
            return Err(Error::invalid(
                "ema_overwrite_frequency",
                "must be >= 1 (or unset), got 0",
            ));
        }
        if let Some(s) = self.loss_scale_factor {
            check_positive("loss_scale_factor", s)?;
        }
        if let Some(steps) = self.gradient_accumulation_steps {
            if steps < 2 {
                return Err(Error::invalid(
                    "gradient_accumulation_steps",
                    format!("must be an integer >= 2 (or unset), got {steps}"),
                ));
            }
        }
        Ok(clipping)
    }

    /// Whether variable `name` gets weight decay (Keras's `_use_weight_decay`; a name matches
    /// an exclusion when it contains it).
    pub(crate) fn decays(&self, name: &str) -> bool {
        !self
            .exclude_from_weight_decay
            .iter()
            .any(|pattern| name.contains(pattern.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_clip_nothing() {
        assert_eq!(BaseOptions::default().validate().unwrap(), Clipping::None);
    }

    #[test]
    fn two_clipping_options_are_an_invalid_argument() {
        let opts = BaseOptions {
            clipnorm: Some(1.0),
            clipvalue: Some(0.5),
            ..BaseOptions::default()
        };
        assert!(matches!(
            opts.validate(),
            Err(Error::InvalidArgument { .. })
        ));
    }

    #[test]
    fn accumulation_needs_at_least_two_steps() {
        for steps in [0, 1] {
            let opts = BaseOptions {
                gradient_accumulation_steps: Some(steps),
                ..BaseOptions::default()
            };
            assert!(opts.validate().is_err());
        }
    }

    #[test]
    fn exclusions_match_substrings_of_variable_names() {
        let opts = BaseOptions {
            exclude_from_weight_decay: vec!["bias".into()],
            ..BaseOptions::default()
        };
        assert!(!opts.decays("dense.bias"));
        assert!(opts.decays("dense.kernel"));
    }
}
