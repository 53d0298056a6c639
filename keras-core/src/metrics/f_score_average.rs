//! How [`FBetaScore`](super::FBetaScore) and [`F1Score`](super::F1Score) average over classes.

use crate::{Error, Result};

/// Keras's `average` argument of the F-scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FScoreAverage {
    /// One score per class (`None` in Keras). Keras's default.
    #[default]
    None,
    /// One score from the counts summed over every class.
    Micro,
    /// The unweighted mean of the per-class scores.
    Macro,
    /// The mean of the per-class scores weighted by each class's (weighted) label count.
    Weighted,
}

impl FScoreAverage {
    /// Parses Keras's values (`None`, `"micro"`, `"macro"`, `"weighted"`).
    pub fn from_keras(average: Option<&str>) -> Result<Self> {
        match average {
            None => Ok(Self::None),
            Some("micro") => Ok(Self::Micro),
            Some("macro") => Ok(Self::Macro),
            Some("weighted") => Ok(Self::Weighted),
            Some(other) => Err(Error::invalid(
                "average",
                format!(
                    "unknown average {other:?}; use None, \"micro\", \"macro\" or \"weighted\""
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_values_parse_and_others_do_not() {
        assert_eq!(
            FScoreAverage::from_keras(Some("macro")).unwrap(),
            FScoreAverage::Macro
        );
        assert_eq!(
            FScoreAverage::from_keras(None).unwrap(),
            FScoreAverage::None
        );
        assert!(FScoreAverage::from_keras(Some("samples")).is_err());
    }
}
