//! Range checks for loss hyper-parameters, shared by the constructors.

use crate::{Error, Result};

/// A finite value in `[0, 1]`.
pub(crate) fn unit_interval(name: &'static str, value: f32) -> Result<f32> {
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(Error::invalid(
            name,
            format!("must be in [0, 1], got {value}"),
        ))
    }
}

/// A finite value `>= 0`.
pub(crate) fn non_negative(name: &'static str, value: f32) -> Result<f32> {
    if value >= 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(Error::invalid(
            name,
            format!("must be a finite number >= 0, got {value}"),
        ))
    }
}

/// A value in the open interval `(0, 1)`.
pub(crate) fn open_unit_interval(name: &'static str, value: f32) -> Result<f32> {
    if value > 0.0 && value < 1.0 {
        Ok(value)
    } else {
        Err(Error::invalid(
            name,
            format!("must be in the open interval (0, 1), got {value}"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_interval_accepts_its_ends_and_rejects_nan() {
        assert!(unit_interval("x", 0.0).is_ok());
        assert!(unit_interval("x", 1.0).is_ok());
        assert!(unit_interval("x", f32::NAN).is_err());
        assert!(unit_interval("x", -0.1).is_err());
    }

    #[test]
    fn non_negative_rejects_infinity() {
        assert!(non_negative("x", 0.0).is_ok());
        assert!(non_negative("x", f32::INFINITY).is_err());
        assert!(non_negative("x", -1.0).is_err());
    }

    #[test]
    fn open_unit_interval_rejects_its_ends() {
        assert!(open_unit_interval("q", 0.0).is_err());
        assert!(open_unit_interval("q", 1.0).is_err());
        assert!(open_unit_interval("q", 0.5).is_ok());
    }
}
