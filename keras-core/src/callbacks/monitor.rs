//! `Monitor`: Keras's `MonitorCallback` logic (which quantity, which direction, what counts as an
//! improvement), shared by `EarlyStopping`, `ReduceLROnPlateau` and `ModelCheckpoint`.

use super::{CallbackContext, Logs};
use crate::{metrics::Direction, Error, Result};

/// Whether the monitored quantity should go down, up, or be inferred from its name (Keras's
/// `mode`).
///
/// ```
/// use keras_core::callbacks::{EarlyStopping, Mode};
///
/// assert_eq!(Mode::default(), Mode::Auto);
/// let es = EarlyStopping::new().with_monitor("val_f1").with_mode(Mode::Max);
/// assert_eq!(es.monitor().mode(), Mode::Max);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Mode {
    /// Infer the direction: from the metric's [`Direction`] when the trainer knows it, else from
    /// the name (`*loss`, errors → min; accuracies, AUC, precision, ... → max).
    #[default]
    Auto,
    /// Smaller is better.
    Min,
    /// Larger is better.
    Max,
}

/// A monitored log key with its direction and `min_delta`.
///
/// `is_improvement(current, reference)` is Keras's `_is_improvement`: `current + min_delta <
/// reference` in min mode (`current - min_delta > reference` in max mode), with the `±min_delta`
/// applied in `f64` and the comparison done after rounding both sides to `f32`, as Keras's
/// `ops.less` / `ops.greater` do.
///
/// ```
/// use keras_core::callbacks::{Mode, Monitor};
/// use keras_core::metrics::Direction;
///
/// let mut m = Monitor::new("val_loss").with_min_delta(1e-4);
/// assert_eq!(m.resolve_mode(None)?, Direction::Down);
/// assert!(m.is_improvement(0.5, Some(1.0)));
/// // 0.9999 + 1e-4 rounds to 1.0f32: not an improvement over 1.0.
/// assert!(!m.is_improvement(0.9999, Some(1.0)));
/// assert!(m.is_improvement(7.0, None));
///
/// let mut acc = Monitor::new("val_accuracy");
/// assert_eq!(acc.resolve_mode(None)?, Direction::Up);
/// assert!(Monitor::new("val_thing").resolve_mode(None).is_err());
/// assert_eq!(Monitor::new("val_thing").with_mode(Mode::Max).resolve_mode(None)?, Direction::Up);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Monitor {
    key: String,
    mode: Mode,
    min_delta: f64,
    direction: Option<Direction>,
}

impl Monitor {
    /// Monitors `key` (e.g. `"val_loss"`), in [`Mode::Auto`] with `min_delta = 0`.
    pub fn new(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            mode: Mode::Auto,
            min_delta: 0.0,
            direction: None,
        }
    }

    /// Sets the mode. Defaults to `Mode::Auto`.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self.direction = None;
        self
    }

    /// Sets the minimum change that counts as an improvement (its absolute value is used, as in
    /// Keras). Defaults to `0`.
    pub fn with_min_delta(mut self, min_delta: f64) -> Self {
        self.min_delta = min_delta.abs();
        self
    }

    /// The monitored key.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The mode.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The (non-negative) `min_delta`.
    pub fn min_delta(&self) -> f64 {
        self.min_delta
    }

    /// The resolved direction, once [`Monitor::resolve_mode`] has run.
    pub fn direction(&self) -> Option<Direction> {
        self.direction
    }

    /// Resolves (and remembers) the direction. `Min`/`Max` are taken as given; `Auto` uses
    /// `direction_hint` (the metric's own [`Direction`], which the trainer knows) when given, else
    /// the key's name with any `val_` prefix removed: `loss` and error-like names (`mse`,
    /// `mae`, `*crossentropy`, `*error`, `hinge`, ...) are minimised, accuracy-like names
    /// (`*acc*`, `auc`, `precision`, `recall`, `f1*`, `*iou`, `r2*`) maximised.
    ///
    /// Errors with [`Error::InvalidArgument`] (`mode`) when `Auto` cannot decide, as Keras raises.
    pub fn resolve_mode(&mut self, direction_hint: Option<Direction>) -> Result<Direction> {
        let direction = match self.mode {
            Mode::Min => Direction::Down,
            Mode::Max => Direction::Up,
            Mode::Auto => match direction_hint.or_else(|| direction_from_name(&self.key)) {
                Some(d) => d,
                None => {
                    return Err(Error::invalid(
                        "mode",
                        format!(
                            "cannot infer whether `{}` should be minimized or maximized; \
                             pass `Mode::Min` or `Mode::Max`",
                            self.key
                        ),
                    ))
                }
            },
        };
        self.direction = Some(direction);
        Ok(direction)
    }

    /// Resolves the direction once, asking the trainer for the metric's direction
    /// ([`CallbackContext::metric_direction`]) in `Auto` mode.
    pub fn ensure_resolved<C: CallbackContext>(&mut self, ctx: &C) -> Result<Direction> {
        if let Some(d) = self.direction {
            return Ok(d);
        }
        let name = self.key.strip_prefix("val_").unwrap_or(&self.key);
        let hint = if self.mode == Mode::Auto {
            ctx.metric_direction(name)
        } else {
            None
        };
        self.resolve_mode(hint)
    }

    /// The monitored value in `logs`, or [`Error::UnknownMonitorKey`] listing the keys present.
    pub fn value(&self, logs: &Logs) -> Result<f32> {
        logs.get(&self.key).ok_or_else(|| Error::UnknownMonitorKey {
            key: self.key.clone(),
            available: logs.key_list(),
        })
    }

    /// The starting "best" of Keras's `MonitorCallback`: `+inf` when minimising, `-inf` when
    /// maximising.
    pub fn worst(&self) -> f64 {
        match self.direction {
            Some(Direction::Up) => f64::NEG_INFINITY,
            _ => f64::INFINITY,
        }
    }

    /// Keras's `_is_improvement(current, reference)`: always `true` when `reference` is `None`.
    /// Before the direction is resolved, minimisation is assumed.
    pub fn is_improvement(&self, current: f32, reference: Option<f64>) -> bool {
        let Some(reference) = reference else {
            return true;
        };
        let reference = reference as f32;
        match self.direction {
            Some(Direction::Up) => ((current as f64 - self.min_delta) as f32) > reference,
            _ => ((current as f64 + self.min_delta) as f32) < reference,
        }
    }
}

/// The direction implied by a metric name (`val_` prefix ignored), if it is a known one.
fn direction_from_name(key: &str) -> Option<Direction> {
    let name = key.strip_prefix("val_").unwrap_or(key).to_ascii_lowercase();
    const DOWN: [&str; 12] = [
        "loss",
        "error",
        "mse",
        "mae",
        "mape",
        "msle",
        "rmse",
        "crossentropy",
        "hinge",
        "poisson",
        "logcosh",
        "divergence",
    ];
    const UP: [&str; 9] = [
        "acc",
        "auc",
        "precision",
        "recall",
        "f1",
        "fbeta",
        "iou",
        "r2",
        "cosine_similarity",
    ];
    if name == "kld" || DOWN.iter().any(|d| name.contains(d)) {
        Some(Direction::Down)
    } else if UP.iter().any(|u| name.contains(u)) {
        Some(Direction::Up)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loss_keys_resolve_to_min_and_accuracy_keys_to_max() {
        for key in [
            "loss",
            "val_loss",
            "val_mae",
            "mean_squared_error",
            "val_categorical_crossentropy",
        ] {
            assert_eq!(
                Monitor::new(key).resolve_mode(None).unwrap(),
                Direction::Down,
                "{key}"
            );
        }
        for key in [
            "accuracy",
            "val_accuracy",
            "val_auc",
            "precision",
            "val_sparse_categorical_accuracy",
        ] {
            assert_eq!(
                Monitor::new(key).resolve_mode(None).unwrap(),
                Direction::Up,
                "{key}"
            );
        }
    }

    #[test]
    fn an_unknown_name_in_auto_mode_is_an_error_unless_a_hint_is_given() {
        let err = Monitor::new("val_custom").resolve_mode(None).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument { name: "mode", .. }));
        let mut m = Monitor::new("val_custom");
        assert_eq!(m.resolve_mode(Some(Direction::Up)).unwrap(), Direction::Up);
        assert_eq!(m.direction(), Some(Direction::Up));
    }

    #[test]
    fn explicit_modes_ignore_the_hint() {
        let mut m = Monitor::new("accuracy").with_mode(Mode::Min);
        assert_eq!(
            m.resolve_mode(Some(Direction::Up)).unwrap(),
            Direction::Down
        );
    }

    #[test]
    fn improvement_is_strict_and_rounds_to_f32() {
        let mut m = Monitor::new("loss").with_min_delta(-1e-4);
        m.resolve_mode(None).unwrap();
        assert_eq!(m.min_delta(), 1e-4);
        assert!(!m.is_improvement(1.0, Some(1.0)));
        assert!(!m.is_improvement(0.9999, Some(1.0)));
        assert!(m.is_improvement(0.9998, Some(1.0)));
        assert!(m.is_improvement(1e30, Some(f64::INFINITY)));
        let mut up = Monitor::new("accuracy");
        up.resolve_mode(None).unwrap();
        assert!(up.is_improvement(0.6, Some(0.5)));
        assert!(!up.is_improvement(0.5, Some(0.5)));
        assert_eq!(up.worst(), f64::NEG_INFINITY);
    }

    #[test]
    fn a_missing_key_lists_the_available_keys() {
        let mut logs = Logs::new();
        logs.set("loss", 0.5);
        logs.set("accuracy", 0.25);
        let err = Monitor::new("val_loss").value(&logs).unwrap_err();
        match err {
            Error::UnknownMonitorKey { key, available } => {
                assert_eq!(key, "val_loss");
                assert_eq!(available, "loss, accuracy");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert_eq!(Monitor::new("accuracy").value(&logs).unwrap(), 0.25);
    }
}
