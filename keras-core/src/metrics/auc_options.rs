//! The curve and the Riemann-sum rule of [`Auc`](super::Auc).

use crate::{Error, Result};

/// Which curve [`Auc`](super::Auc) integrates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AucCurve {
    /// Recall against false-positive rate. Keras's default.
    #[default]
    Roc,
    /// Precision against recall.
    Pr,
}

impl AucCurve {
    /// Parses Keras's names (`"ROC"`/`"roc"`, `"PR"`/`"pr"`).
    pub fn from_keras(name: &str) -> Result<Self> {
        match name {
            "ROC" | "roc" => Ok(Self::Roc),
            "PR" | "pr" => Ok(Self::Pr),
            other => Err(Error::invalid(
                "curve",
                format!("unknown curve {other:?}; use \"ROC\" or \"PR\""),
            )),
        }
    }
}

/// How [`Auc`](super::Auc) sums the area between thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AucSummation {
    /// Mid-point rule for ROC; for PR, Davis & Goadrich's interpolation of true and false
    /// positives. Keras's default.
    #[default]
    Interpolation,
    /// The lower of the two neighbouring heights.
    Minoring,
    /// The higher of the two neighbouring heights.
    Majoring,
}

impl AucSummation {
    /// Parses Keras's names (`"interpolation"`, `"minoring"`, `"majoring"`, capitalised or
    /// not).
    pub fn from_keras(name: &str) -> Result<Self> {
        match name {
            "interpolation" | "Interpolation" => Ok(Self::Interpolation),
            "minoring" | "Minoring" => Ok(Self::Minoring),
            "majoring" | "Majoring" => Ok(Self::Majoring),
            other => Err(Error::invalid(
                "summation_method",
                format!(
                    "unknown summation method {other:?}; use interpolation, minoring or majoring"
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keras_names_parse_and_others_do_not() {
        assert_eq!(AucCurve::from_keras("PR").unwrap(), AucCurve::Pr);
        assert_eq!(
            AucSummation::from_keras("majoring").unwrap(),
            AucSummation::Majoring
        );
        assert!(AucCurve::from_keras("PRGAIN").is_err());
        assert!(AucSummation::from_keras("trapezoid").is_err());
    }
}
