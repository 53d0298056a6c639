//! The moment hyper-parameters the Adam family shares (`beta_1`, `beta_2`, `epsilon`).

use super::update_rule::{check_beta, check_positive};
use crate::Result;

/// `beta_1`, `beta_2` and `epsilon` of [`Adam`](super::Adam), [`AdamW`](super::AdamW),
/// [`Adamax`](super::Adamax), [`Nadam`](super::Nadam) and [`Lamb`](super::Lamb), with their
/// common Keras defaults (`0.9`, `0.999`, `1e-7`) and checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Moments {
    /// Decay rate of the first moment, in `[0, 1)`.
    pub beta_1: f64,
    /// Decay rate of the second moment (Adamax: of the infinity norm), in `[0, 1)`.
    pub beta_2: f64,
    /// Added to the denominator; > 0.
    pub epsilon: f64,
}

impl Default for Moments {
    fn default() -> Self {
        Self {
            beta_1: 0.9,
            beta_2: 0.999,
            epsilon: 1e-7,
        }
    }
}

impl Moments {
    /// Both betas in `[0, 1)` and a positive epsilon, else
    /// [`Error::InvalidArgument`](crate::Error::InvalidArgument) naming the parameter.
    pub(crate) fn validate(&self) -> Result<()> {
        check_beta("beta_1", self.beta_1)?;
        check_beta("beta_2", self.beta_2)?;
        check_positive("epsilon", self.epsilon)
    }
}

/// `with_beta_1`, `with_beta_2` and `with_epsilon` on `OptimizerBuilder<$rule, S>`, setting the
/// [`Moments`] at `rule.$path`; the docs of the second moment and of epsilon are given, as they
/// differ between optimizers.
macro_rules! moment_setters {
    ($rule:ty, $($path:ident).+, beta_2: $beta_2_doc:literal, epsilon: $epsilon_doc:literal) => {
        impl<S> $crate::optimizers::OptimizerBuilder<$rule, S> {
            /// Decay rate of the first moment, in `[0, 1)`. Defaults to `0.9`.
            pub fn with_beta_1(mut self, beta_1: f64) -> Self {
                self.rule.$($path).+.beta_1 = beta_1;
                self
            }

            #[doc = concat!($beta_2_doc, ", in `[0, 1)`. Defaults to `0.999`.")]
            pub fn with_beta_2(mut self, beta_2: f64) -> Self {
                self.rule.$($path).+.beta_2 = beta_2;
                self
            }

            #[doc = concat!($epsilon_doc, "; must be > 0. Defaults to `1e-7`.")]
            pub fn with_epsilon(mut self, epsilon: f64) -> Self {
                self.rule.$($path).+.epsilon = epsilon;
                self
            }
        }
    };
}

pub(crate) use moment_setters;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn keras_defaults_are_valid() {
        assert!(Moments::default().validate().is_ok());
    }

    #[test]
    fn each_out_of_range_value_is_named() {
        let name = |m: Moments| match m.validate() {
            Err(Error::InvalidArgument { name, .. }) => name,
            other => panic!("expected an invalid argument, got {other:?}"),
        };
        let d = Moments::default();
        assert_eq!(name(Moments { beta_1: 1.0, ..d }), "beta_1");
        assert_eq!(name(Moments { beta_2: -0.1, ..d }), "beta_2");
        assert_eq!(name(Moments { epsilon: 0.0, ..d }), "epsilon");
    }
}
