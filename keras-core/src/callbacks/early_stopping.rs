//! `keras.callbacks.EarlyStopping`: stop training when a monitored quantity stops improving.

use super::{Callback, CallbackContext, Mode, Monitor};
use crate::state::{floats_from_hex, floats_to_hex};
use crate::{Error, Result};

/// Stops training when the monitored quantity has not improved for `patience` epochs.
///
/// Keras 3.15 semantics: epochs before `start_from_epoch` are ignored; `wait` counts epochs since
/// the last improvement (`current ∓ min_delta` strictly better than `best`, compared in `f32`);
/// an improvement resets `wait` only if it also beats `baseline`; the run stops when
/// `wait >= patience` at an epoch `> 0` that did not improve. With `restore_best_weights`, the
/// best epoch's weights (a copy of [`CallbackContext::weights`]) are put back in `on_train_end`
/// whenever they exist, also when training ran to the end.
///
/// A monitor key missing from the first epoch's logs is an [`Error::UnknownMonitorKey`]; later
/// epochs that lack it are skipped (Keras warns).
///
/// ```
/// use keras_core::callbacks::{EarlyStopping, Mode};
///
/// let es = EarlyStopping::new()
///     .with_monitor("val_loss")
///     .with_patience(3)
///     .with_min_delta(1e-3)
///     .with_mode(Mode::Min)
///     .with_restore_best_weights(true);
/// assert_eq!(es.patience(), 3);
/// assert_eq!(es.wait(), 0);
/// assert_eq!(es.best(), None);
/// ```
#[derive(Debug, Clone)]
pub struct EarlyStopping {
    monitor: Monitor,
    patience: usize,
    verbose: u8,
    baseline: Option<f64>,
    restore_best_weights: bool,
    start_from_epoch: usize,
    wait: usize,
    stopped_epoch: Option<usize>,
    best: Option<f32>,
    best_epoch: usize,
    best_weights: Option<Vec<f32>>,
    /// The non-trainable variables (moving statistics) of the best epoch, kept with its weights.
    best_non_trainable: Option<Vec<f32>>,
    key_checked: bool,
}

impl Default for EarlyStopping {
    fn default() -> Self {
        Self::new()
    }
}

impl EarlyStopping {
    /// Keras's defaults: monitor `val_loss`, `min_delta = 0`, `patience = 0`, `Mode::Auto`, no
    /// baseline, no weight restoring, `start_from_epoch = 0`.
    pub fn new() -> Self {
        Self {
            monitor: Monitor::new("val_loss"),
            patience: 0,
            verbose: 0,
            baseline: None,
            restore_best_weights: false,
            start_from_epoch: 0,
            wait: 0,
            stopped_epoch: None,
            best: None,
            best_epoch: 0,
            best_weights: None,
            best_non_trainable: None,
            key_checked: false,
        }
    }

    /// The log key to monitor. Defaults to `"val_loss"`.
    pub fn with_monitor(mut self, key: impl Into<String>) -> Self {
        self.monitor = Monitor::new(key)
            .with_mode(self.monitor.mode())
            .with_min_delta(self.monitor.min_delta());
        self
    }

    /// Minimum change that counts as an improvement (absolute value used). Defaults to `0`.
    pub fn with_min_delta(mut self, min_delta: f64) -> Self {
        self.monitor = self.monitor.with_min_delta(min_delta);
        self
    }

    /// Epochs without improvement before stopping. Defaults to `0`.
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// 0: silent; 1: prints when it stops or restores weights. Defaults to `0`.
    pub fn with_verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// Direction of improvement. Defaults to `Mode::Auto`.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.monitor = self.monitor.with_mode(mode);
        self
    }

    /// A value that an improvement must also beat to reset `wait`. Defaults to `None`.
    pub fn with_baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    /// Put the best epoch's weights back at the end of training. Defaults to `false`.
    pub fn with_restore_best_weights(mut self, restore: bool) -> Self {
        self.restore_best_weights = restore;
        self
    }

    /// Number of warm-up epochs that are not monitored. Defaults to `0`.
    pub fn with_start_from_epoch(mut self, epoch: usize) -> Self {
        self.start_from_epoch = epoch;
        self
    }

    /// The monitor (key, mode, `min_delta`, resolved direction).
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// The patience.
    pub fn patience(&self) -> usize {
        self.patience
    }

    /// Epochs since the last improvement (Keras's `wait`).
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// The best monitored value so far, `None` before the first monitored epoch.
    pub fn best(&self) -> Option<f32> {
        self.best
    }

    /// The epoch of the best value (0 if none was monitored yet).
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }

    /// The epoch at which a stop was requested, if any.
    pub fn stopped_epoch(&self) -> Option<usize> {
        self.stopped_epoch
    }
}

impl Callback for EarlyStopping {
    /// No batch hook reads the logs.
    fn reads_batch_logs(&self) -> bool {
        false
    }

    fn on_train_begin<C: CallbackContext>(&mut self, _ctx: &mut C) -> Result<()> {
        self.wait = 0;
        self.stopped_epoch = None;
        self.best = None;
        self.best_weights = None;
        self.best_non_trainable = None;
        self.best_epoch = 0;
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        self.monitor.ensure_resolved(ctx)?;
        let current = match ctx.logs().get(self.monitor.key()) {
            Some(v) => v,
            None if !self.key_checked => return self.monitor.value(ctx.logs()).map(|_| ()),
            None => return Ok(()),
        };
        self.key_checked = true;
        if epoch < self.start_from_epoch {
            return Ok(());
        }
        if self.restore_best_weights && self.best_weights.is_none() {
            self.best_weights = Some(ctx.weights()?.values.clone());
            self.best_non_trainable = Some(ctx.non_trainable_weights()?.values);
            self.best_epoch = epoch;
        }
        self.wait += 1;
        if self
            .monitor
            .is_improvement(current, self.best.map(f64::from))
        {
            self.best = Some(current);
            self.best_epoch = epoch;
            if self.restore_best_weights {
                let weights = &ctx.weights()?.values;
                match &mut self.best_weights {
                    Some(best) => best.clone_from(weights),
                    None => self.best_weights = Some(weights.clone()),
                }
                self.best_non_trainable = Some(ctx.non_trainable_weights()?.values);
            }
            if self.baseline.is_none() || self.monitor.is_improvement(current, self.baseline) {
                self.wait = 0;
            }
            return Ok(());
        }
        if self.wait >= self.patience && epoch > 0 {
            self.stopped_epoch = Some(epoch);
            ctx.stop_training();
        }
        Ok(())
    }

    fn on_train_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if let (Some(epoch), true) = (self.stopped_epoch, self.verbose > 0) {
            println!("Epoch {}: early stopping", epoch + 1);
        }
        if self.restore_best_weights {
            if let Some(best) = &self.best_weights {
                if self.verbose > 0 {
                    println!(
                        "Restoring model weights from the end of the best epoch: {}.",
                        self.best_epoch + 1
                    );
                }
                ctx.set_weights(best)?;
                if let Some(stats) = &self.best_non_trainable {
                    ctx.set_non_trainable_weights(stats)?;
                }
            }
        }
        Ok(())
    }

    /// `wait`, `best`, the epochs, and with `restore_best_weights` the best epoch's weights and
    /// moving statistics (bit for bit, as hexadecimal text), so that a resumed run restores the
    /// same weights at its end.
    fn state(&self) -> Option<serde_json::Value> {
        let hex = |v: &Option<Vec<f32>>| v.as_deref().map(floats_to_hex);
        Some(serde_json::json!({
            "wait": self.wait,
            "best": self.best,
            "best_epoch": self.best_epoch,
            "stopped_epoch": self.stopped_epoch,
            "best_weights": hex(&self.best_weights),
            "best_non_trainable": hex(&self.best_non_trainable),
        }))
    }

    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let bad = || Error::invalid("state", "not an EarlyStopping state");
        let floats = |key: &str| -> Result<Option<Vec<f32>>> {
            match &state[key] {
                serde_json::Value::Null => Ok(None),
                value => value
                    .as_str()
                    .and_then(floats_from_hex)
                    .map(Some)
                    .ok_or_else(bad),
            }
        };
        let best_weights = floats("best_weights")?;
        let best_non_trainable = floats("best_non_trainable")?;
        if self.restore_best_weights && state["best"].is_number() && best_weights.is_none() {
            return Err(Error::invalid(
                "state",
                "this EarlyStopping restores the best weights, but the saved state has none",
            ));
        }
        self.wait = state["wait"].as_u64().ok_or_else(bad)? as usize;
        self.best = state["best"].as_f64().map(|b| b as f32);
        self.best_epoch = state["best_epoch"].as_u64().ok_or_else(bad)? as usize;
        self.stopped_epoch = state["stopped_epoch"].as_u64().map(|e| e as usize);
        self.best_weights = best_weights;
        self.best_non_trainable = best_non_trainable;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;

    fn run(es: &mut EarlyStopping, values: &[f32]) -> (MockContext, usize) {
        let mut ctx = MockContext::new();
        es.on_train_begin(&mut ctx).unwrap();
        let mut epochs = 0;
        for (epoch, &v) in values.iter().enumerate() {
            ctx.weights
                .values
                .iter_mut()
                .for_each(|w| *w = epoch as f32);
            ctx.set_logs(&[("loss", 1.0), ("val_loss", v)]);
            es.on_epoch_end(epoch, &mut ctx).unwrap();
            epochs += 1;
            if ctx.stop {
                break;
            }
        }
        es.on_train_end(&mut ctx).unwrap();
        (ctx, epochs)
    }

    #[test]
    fn training_stops_after_patience_epochs_without_improvement() {
        let mut es = EarlyStopping::new().with_patience(2);
        let (ctx, epochs) = run(&mut es, &[1.0, 0.9, 0.95, 0.96, 0.5]);
        assert!(ctx.stop);
        assert_eq!(epochs, 4);
        assert_eq!(es.stopped_epoch(), Some(3));
        assert_eq!(es.best(), Some(0.9));
        assert_eq!(es.best_epoch(), 1);
        assert_eq!(es.wait(), 2);
    }

    #[test]
    fn best_weights_are_restored_even_without_a_stop() {
        let mut es = EarlyStopping::new()
            .with_patience(10)
            .with_restore_best_weights(true);
        let (ctx, epochs) = run(&mut es, &[1.0, 0.5, 0.7]);
        assert_eq!(epochs, 3);
        assert!(!ctx.stop);
        assert_eq!(ctx.set_weights_calls, 1);
        assert!(ctx.weights.values.iter().all(|&w| w == 1.0));
    }

    #[test]
    fn a_missing_monitor_key_is_reported_with_the_available_keys() {
        let mut es = EarlyStopping::new()
            .with_monitor("val_acc")
            .with_mode(Mode::Max);
        let mut ctx = MockContext::new().with_logs(&[("loss", 1.0)]);
        es.on_train_begin(&mut ctx).unwrap();
        let err = es.on_epoch_end(0, &mut ctx).unwrap_err();
        assert!(
            matches!(err, Error::UnknownMonitorKey { ref available, .. } if available == "loss")
        );
    }

    #[test]
    fn auto_mode_uses_the_direction_the_trainer_reports() {
        let mut es = EarlyStopping::new().with_monitor("val_custom_score");
        let mut ctx = MockContext::new().with_logs(&[("val_custom_score", 0.5)]);
        es.on_epoch_end(0, &mut ctx).unwrap();
        assert_eq!(
            es.monitor().direction(),
            Some(crate::metrics::Direction::Up)
        );
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut es = EarlyStopping::new().with_patience(5);
        run(&mut es, &[1.0, 2.0, 3.0]);
        let state = es.state().unwrap();
        let mut other = EarlyStopping::new();
        other.load_state(&state).unwrap();
        assert_eq!(other.wait(), 2);
        assert_eq!(other.best(), Some(1.0));
        assert_eq!(other.best_epoch(), 0);
    }
}
