//! `keras.callbacks.ReduceLROnPlateau`: lower the learning rate when a quantity plateaus.

use super::{Callback, CallbackContext, Mode, Monitor};
use crate::{Error, Result};

/// Multiplies the learning rate by `factor` after `patience` epochs without improvement, then
/// waits `cooldown` epochs before counting again; never goes below `min_lr`.
///
/// Writes the learning rate in effect during the epoch to `logs["learning_rate"]` before acting.
/// The arithmetic is Keras's: `new_lr = max(old_lr * factor, min_lr)` in `f64` from the `f32`
/// learning rate, stored back as `f32` (so `0.1` reduced twice by a factor of `0.1` becomes
/// `0.00099999993`, not `0.001`).
///
/// ```
/// use keras_core::callbacks::ReduceLROnPlateau;
///
/// let cb = ReduceLROnPlateau::new()
///     .with_monitor("val_loss")
///     .with_factor(0.5)?
///     .with_patience(2)
///     .with_cooldown(1)
///     .with_min_lr(1e-5);
/// assert_eq!(cb.wait(), 0);
/// assert!(ReduceLROnPlateau::new().with_factor(1.0).is_err());
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct ReduceLROnPlateau {
    monitor: Monitor,
    factor: f64,
    patience: usize,
    verbose: u8,
    cooldown: usize,
    min_lr: f64,
    best: Option<f64>,
    wait: usize,
    cooldown_counter: usize,
    key_checked: bool,
}

impl Default for ReduceLROnPlateau {
    fn default() -> Self {
        Self::new()
    }
}

impl ReduceLROnPlateau {
    /// Keras's defaults: monitor `val_loss`, `factor = 0.1`, `patience = 10`, `Mode::Auto`,
    /// `min_delta = 1e-4`, `cooldown = 0`, `min_lr = 0`.
    pub fn new() -> Self {
        Self {
            monitor: Monitor::new("val_loss").with_min_delta(1e-4),
            factor: 0.1,
            patience: 10,
            verbose: 0,
            cooldown: 0,
            min_lr: 0.0,
            best: None,
            wait: 0,
            cooldown_counter: 0,
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

    /// The factor the learning rate is multiplied by; must be in `[0, 1)`. Defaults to `0.1`.
    pub fn with_factor(mut self, factor: f64) -> Result<Self> {
        if !(0.0..1.0).contains(&factor) {
            return Err(Error::invalid(
                "factor",
                format!(
                    "ReduceLROnPlateau does not support a factor outside [0, 1); received {factor}"
                ),
            ));
        }
        self.factor = factor;
        Ok(self)
    }

    /// Epochs without improvement before the learning rate is reduced. Defaults to `10`.
    pub fn with_patience(mut self, patience: usize) -> Self {
        self.patience = patience;
        self
    }

    /// 0: quiet; 1: prints each reduction. Defaults to `0`.
    pub fn with_verbose(mut self, verbose: u8) -> Self {
        self.verbose = verbose;
        self
    }

    /// Direction of improvement. Defaults to `Mode::Auto`.
    pub fn with_mode(mut self, mode: Mode) -> Self {
        self.monitor = self.monitor.with_mode(mode);
        self
    }

    /// Minimum change that counts as an improvement. Defaults to `1e-4`.
    pub fn with_min_delta(mut self, min_delta: f64) -> Self {
        self.monitor = self.monitor.with_min_delta(min_delta);
        self
    }

    /// Epochs to wait after a reduction before counting again. Defaults to `0`.
    pub fn with_cooldown(mut self, cooldown: usize) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// Lower bound on the learning rate. Defaults to `0.0`.
    pub fn with_min_lr(mut self, min_lr: f64) -> Self {
        self.min_lr = min_lr;
        self
    }

    /// The monitor.
    pub fn monitor(&self) -> &Monitor {
        &self.monitor
    }

    /// Epochs since the last improvement.
    pub fn wait(&self) -> usize {
        self.wait
    }

    /// Epochs of cooldown left.
    pub fn cooldown_counter(&self) -> usize {
        self.cooldown_counter
    }

    /// The best monitored value so far (`None` before the first epoch).
    pub fn best(&self) -> Option<f64> {
        self.best
    }
}

impl Callback for ReduceLROnPlateau {
    /// No batch hook reads the logs.
    fn reads_batch_logs(&self) -> bool {
        false
    }

    fn on_train_begin<C: CallbackContext>(&mut self, _ctx: &mut C) -> Result<()> {
        self.cooldown_counter = 0;
        self.wait = 0;
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        self.monitor.ensure_resolved(ctx)?;
        let best = *self.best.get_or_insert(self.monitor.worst());
        let lr = ctx.learning_rate();
        ctx.logs_mut().set("learning_rate", lr);
        let current = match ctx.logs().get(self.monitor.key()) {
            Some(v) => v,
            None if !self.key_checked => return self.monitor.value(ctx.logs()).map(|_| ()),
            None => return Ok(()),
        };
        self.key_checked = true;
        if self.cooldown_counter > 0 {
            self.cooldown_counter -= 1;
            self.wait = 0;
        }
        if self.monitor.is_improvement(current, Some(best)) {
            self.best = Some(current as f64);
            self.wait = 0;
        } else if self.cooldown_counter == 0 {
            self.wait += 1;
            if self.wait >= self.patience {
                let old_lr = ctx.learning_rate();
                if old_lr > self.min_lr as f32 {
                    let new_lr = (old_lr as f64 * self.factor).max(self.min_lr);
                    ctx.set_learning_rate(new_lr as f32)?;
                    if self.verbose > 0 {
                        println!(
                            "\nEpoch {}: ReduceLROnPlateau reducing learning rate to {new_lr}.",
                            epoch + 1
                        );
                    }
                    self.cooldown_counter = self.cooldown;
                    self.wait = 0;
                }
            }
        }
        Ok(())
    }

    fn state(&self) -> Option<serde_json::Value> {
        Some(serde_json::json!({
            "wait": self.wait,
            "best": self.best,
            "cooldown_counter": self.cooldown_counter,
        }))
    }

    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let bad = || Error::invalid("state", "not a ReduceLROnPlateau state");
        self.wait = state["wait"].as_u64().ok_or_else(bad)? as usize;
        self.best = state["best"].as_f64();
        self.cooldown_counter = state["cooldown_counter"].as_u64().ok_or_else(bad)? as usize;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;

    #[test]
    fn the_learning_rate_is_reduced_after_patience_epochs_and_written_to_the_logs() {
        let mut cb = ReduceLROnPlateau::new().with_patience(1).with_cooldown(2);
        let mut ctx = MockContext::new();
        cb.on_train_begin(&mut ctx).unwrap();
        let mut lrs = vec![];
        for (epoch, v) in [1.0, 1.0, 1.0, 1.0].into_iter().enumerate() {
            ctx.set_logs(&[("val_loss", v)]);
            cb.on_epoch_end(epoch, &mut ctx).unwrap();
            lrs.push((ctx.logs.get("learning_rate").unwrap(), ctx.lr));
        }
        // Epoch 1 reduces, epoch 2 is cooldown, epoch 3 reduces again.
        assert_eq!(
            lrs,
            vec![
                (0.1, 0.1),
                (0.1, 0.01),
                (0.01, 0.01),
                (0.01, 0.000_999_999_9)
            ]
        );
    }

    #[test]
    fn the_learning_rate_never_goes_below_min_lr() {
        let mut cb = ReduceLROnPlateau::new().with_patience(0).with_min_lr(0.05);
        let mut ctx = MockContext::new().with_logs(&[("val_loss", 1.0)]);
        for epoch in 0..3 {
            cb.on_epoch_end(epoch, &mut ctx).unwrap();
        }
        assert_eq!(ctx.lr, 0.05);
    }

    #[test]
    fn a_factor_of_one_or_more_is_rejected() {
        assert!(matches!(
            ReduceLROnPlateau::new().with_factor(1.5),
            Err(Error::InvalidArgument { name: "factor", .. })
        ));
    }
}
