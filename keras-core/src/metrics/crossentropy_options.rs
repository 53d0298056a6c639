//! The options the crossentropy metrics share: `from_logits` and `label_smoothing`.

use crate::{Error, Result};

/// Validates a `label_smoothing` argument: a value in `[0, 1]`.
pub(crate) fn check_label_smoothing(s: f32) -> Result<f32> {
    if !(0.0..=1.0).contains(&s) {
        return Err(Error::invalid(
            "label_smoothing",
            format!("expected a value in [0, 1], got {s}"),
        ));
    }
    Ok(s)
}

/// Expands, inside the `impl` block of a crossentropy metric, to the named setters:
/// `from_logits` gives `with_from_logits` (field `from_logits: bool`), `label_smoothing` gives
/// `with_label_smoothing` (field `label_smoothing: f32`).
macro_rules! crossentropy_setters {
    ($($setter:ident),+) => {
        $($crate::metrics::crossentropy_options::crossentropy_setters!(@$setter);)+
    };
    (@from_logits) => {
        /// Whether `y_pred` holds logits. Defaults to `false`.
        pub fn with_from_logits(mut self, from_logits: bool) -> Self {
            self.from_logits = from_logits;
            self
        }
    };
    (@label_smoothing) => {
        /// Label smoothing in `[0, 1]`. Defaults to `0`.
        pub fn with_label_smoothing(mut self, label_smoothing: f32) -> $crate::Result<Self> {
            self.label_smoothing =
                $crate::metrics::crossentropy_options::check_label_smoothing(label_smoothing)?;
            Ok(self)
        }
    };
}

pub(crate) use crossentropy_setters;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_smoothing_squeezes_labels_towards_one_half() {
        use crate::kernels::metric::smooth_label;
        assert_eq!(
            (smooth_label(0.0, 0.5, 2.0), smooth_label(1.0, 0.5, 2.0)),
            (0.25, 0.75)
        );
        assert_eq!(smooth_label(1.0, 0.5, 4.0), 0.625);
        assert_eq!(smooth_label(1.0, 0.0, 2.0), 1.0);
    }

    #[test]
    fn smoothing_outside_the_unit_interval_is_rejected() {
        assert!(check_label_smoothing(1.5).is_err());
        assert!(check_label_smoothing(f32::NAN).is_err());
        assert_eq!(check_label_smoothing(1.0).unwrap(), 1.0);
    }
}
