//! `keras.callbacks.ProgbarLogger`: progress bars and per-epoch lines on stdout.

use std::{
    io::{IsTerminal, Stdout, Write},
    time::Instant,
};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Callback, CallbackContext, Logs};
use crate::persist::py_format::{format_spec, PyValue};
use crate::{Error, Result};

const BAR_WIDTH: usize = 20;

/// Prints training progress as Keras does.
///
/// - verbose 1 on a terminal: a live bar (`n/N ━━━━ ETA - loss: 0.1234 - accuracy: 0.5000`,
///   drawn with indicatif) updated every batch, replaced at the end of the epoch by the final
///   line `N/N ━━━━━━━━━━━━━━━━━━━━ 3s 12ms/step - loss: 0.1234 - accuracy: 0.5000`;
/// - verbose 1 to something that is not a terminal: that final line only, once per epoch;
/// - verbose 2: one line per epoch, `N/N - 3s - 12ms/step - loss: 0.1234 - ...`.
///
/// With more than one epoch, each epoch starts with `Epoch e/E`. Values are the logs as they are
/// (the running means of the epoch), printed with 4 decimals (`.4e` when tiny). Validation
/// inside `fit` is silent; `evaluate` and `predict` get their own bar.
///
/// The verbosity comes from the run ([`super::RunParams::verbose`]) unless set with
/// [`ProgbarLogger::with_verbose`].
///
/// ```
/// use keras_core::callbacks::ProgbarLogger;
///
/// let to_stdout = ProgbarLogger::new();
/// let to_buffer = ProgbarLogger::to_writer(Vec::<u8>::new()).with_verbose(2);
/// assert!(to_buffer.into_inner().is_empty());
/// # let _ = to_stdout;
/// ```
#[derive(Debug)]
pub struct ProgbarLogger<W: Write = Stdout> {
    out: W,
    tty: bool,
    verbose_override: Option<u8>,
    clock: fn() -> Instant,
    verbose: u8,
    epochs: usize,
    target: Option<usize>,
    seen: usize,
    in_fit: bool,
    start: Option<Instant>,
    after_first_step: Option<Instant>,
    bar: Option<ProgressBar>,
}

impl Default for ProgbarLogger {
    fn default() -> Self {
        Self::new()
    }
}

impl ProgbarLogger {
    /// Prints to stdout; draws a live bar when stdout is a terminal.
    pub fn new() -> Self {
        let out = std::io::stdout();
        let tty = out.is_terminal();
        Self::with_output(out, tty)
    }
}

impl<W: Write> ProgbarLogger<W> {
    /// Writes plain lines (no live bar) to `out`, e.g. a file or a `Vec<u8>`.
    pub fn to_writer(out: W) -> Self {
        Self::with_output(out, false)
    }

    fn with_output(out: W, tty: bool) -> Self {
        Self {
            out,
            tty,
            verbose_override: None,
            clock: Instant::now,
            verbose: 1,
            epochs: 1,
            target: None,
            seen: 0,
            in_fit: false,
            start: None,
            after_first_step: None,
            bar: None,
        }
    }

    /// Verbosity (0 silent, 1 bar, 2 one line per epoch), overriding the run's. Defaults to the
    /// run's `verbose`.
    pub fn with_verbose(mut self, verbose: u8) -> Self {
        self.verbose_override = Some(verbose);
        self
    }

    /// The time source (for reproducible output in tests). Defaults to `Instant::now`.
    pub fn with_clock(mut self, clock: fn() -> Instant) -> Self {
        self.clock = clock;
        self
    }

    /// Gives back the writer.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn io(e: std::io::Error) -> Error {
        Error::io("<progress output>", e)
    }

    fn reset<C: CallbackContext>(&mut self, ctx: &C) {
        let params = ctx.params();
        self.verbose = self.verbose_override.unwrap_or(params.verbose);
        self.target = params.steps;
        self.seen = 0;
        self.start = Some((self.clock)());
        self.after_first_step = None;
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }

    /// The live bar (verbose 1 on a terminal), created at the first update so that nothing is
    /// drawn before the `Epoch e/E` line.
    fn live_bar(&mut self) -> Option<&ProgressBar> {
        if self.bar.is_none() && self.tty && self.verbose == 1 {
            let bar = match self.target {
                Some(n) => {
                    ProgressBar::with_draw_target(Some(n as u64), ProgressDrawTarget::stdout())
                        .with_style(
                            ProgressStyle::with_template(
                                "{pos}/{len} {bar:20.green/white} {eta} {msg}",
                            )
                            .unwrap_or_else(|_| ProgressStyle::default_bar())
                            .progress_chars("━━━"),
                        )
                }
                None => ProgressBar::with_draw_target(None, ProgressDrawTarget::stdout())
                    .with_style(
                        ProgressStyle::with_template("{pos}/Unknown {elapsed} {msg}")
                            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                    ),
            };
            self.bar = Some(bar);
        }
        self.bar.as_ref()
    }

    fn update(&mut self, batch: usize, logs: Option<&Logs>) {
        self.seen = batch + 1;
        let now = (self.clock)();
        if self.seen == 1 {
            self.after_first_step = Some(now);
        }
        let seen = self.seen as u64;
        if let Some(bar) = self.live_bar() {
            bar.set_position(seen);
            if let Some(logs) = logs {
                bar.set_message(format_logs(logs, 1).trim_start_matches(" - ").to_string());
            }
        }
    }

    /// Keras's estimate of the time per step, ignoring the first (warm-up) step.
    fn time_per_step(&self, current: usize, now: Instant) -> f64 {
        if current == 0 {
            return 0.0;
        }
        match (self.after_first_step, current > 1) {
            (Some(t1), true) => {
                now.saturating_duration_since(t1).as_secs_f64() / (current - 1) as f64
            }
            _ => self
                .start
                .map(|s| now.saturating_duration_since(s).as_secs_f64() / current as f64)
                .unwrap_or(0.0),
        }
    }

    fn finalize(&mut self, logs: Option<&Logs>) -> Result<()> {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
        if self.verbose == 0 {
            return Ok(());
        }
        let target = *self.target.get_or_insert(self.seen);
        let now = (self.clock)();
        let elapsed = self
            .start
            .map(|s| now.saturating_duration_since(s).as_secs_f64())
            .unwrap_or(0.0);
        let per_step = format_time(self.time_per_step(target, now));
        let empty = Logs::new();
        let values = format_logs(logs.unwrap_or(&empty), self.verbose);
        let count = format!("{target}/{target}");
        let line = if self.verbose == 1 {
            format!(
                "{count} {} {elapsed:.0}s{per_step}{values}",
                "━".repeat(BAR_WIDTH)
            )
        } else {
            format!("{count} - {elapsed:.0}s -{per_step}{values}")
        };
        writeln!(self.out, "{line}").map_err(Self::io)?;
        self.out.flush().map_err(Self::io)
    }
}

/// Keras's `_format_time`: ` 12ms/step`, ` 3s/step`, ` 850us/step` (` 0s/step` when unknown).
fn format_time(seconds: f64) -> String {
    if seconds >= 1.0 || seconds == 0.0 {
        format!(" {seconds:.0}s/step")
    } else if seconds >= 1e-3 {
        format!(" {:.0}ms/step", seconds * 1e3)
    } else {
        format!(" {:.0}us/step", seconds * 1e6)
    }
}

/// ` - loss: 0.1234 - accuracy: 0.5000`: 4 decimals, or `.4e` when the value is at most `1e-3`
/// (in magnitude for verbose 1; verbose 2 compares the signed value, as Keras does).
fn format_logs(logs: &Logs, verbose: u8) -> String {
    let mut out = String::new();
    for (k, v) in logs.iter() {
        let v = v as f64;
        let small = if verbose == 2 {
            v <= 1e-3
        } else {
            v.abs() <= 1e-3
        };
        let spec = if small { ".4e" } else { ".4f" };
        let text = format_spec(PyValue::Float(v), spec).unwrap_or_else(|_| v.to_string());
        out.push_str(&format!(" - {k}: {text}"));
    }
    out
}

impl<W: Write> Callback for ProgbarLogger<W> {
    /// Only the live bar (verbose 1 on a terminal) shows batch logs; otherwise lines are
    /// printed at the end of each epoch.
    fn reads_batch_logs(&self) -> bool {
        self.verbose == 1 && self.tty
    }

    fn on_train_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.in_fit = true;
        self.epochs = ctx.params().epochs;
        Ok(())
    }

    fn on_train_end<C: CallbackContext>(&mut self, _ctx: &mut C) -> Result<()> {
        self.in_fit = false;
        Ok(())
    }

    fn on_epoch_begin<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        self.reset(ctx);
        if self.verbose > 0 && self.epochs > 1 {
            writeln!(self.out, "Epoch {}/{}", epoch + 1, self.epochs).map_err(Self::io)?;
            self.out.flush().map_err(Self::io)?;
        }
        Ok(())
    }

    fn on_train_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        self.update(batch, Some(ctx.logs()));
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, _epoch: usize, ctx: &mut C) -> Result<()> {
        self.finalize(Some(ctx.logs()))
    }

    fn on_test_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if !self.in_fit {
            self.reset(ctx);
        }
        Ok(())
    }

    fn on_test_batch_end<C: CallbackContext>(&mut self, batch: usize, ctx: &mut C) -> Result<()> {
        if !self.in_fit {
            self.update(batch, Some(ctx.logs()));
        }
        Ok(())
    }

    fn on_test_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if self.in_fit {
            return Ok(());
        }
        self.finalize(Some(ctx.logs()))
    }

    fn on_predict_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.reset(ctx);
        Ok(())
    }

    fn on_predict_batch_end<C: CallbackContext>(
        &mut self,
        batch: usize,
        _ctx: &mut C,
    ) -> Result<()> {
        self.update(batch, None);
        Ok(())
    }

    fn on_predict_end<C: CallbackContext>(&mut self, _ctx: &mut C) -> Result<()> {
        self.finalize(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::{test_context::MockContext, RunParams};

    fn fixed_clock() -> Instant {
        static T0: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
        *T0.get_or_init(Instant::now)
    }

    fn fit(verbose: u8, epochs: usize, steps: Option<usize>) -> String {
        fit_with(
            ProgbarLogger::to_writer(Vec::new()).with_clock(fixed_clock),
            verbose,
            epochs,
            steps,
        )
    }

    fn fit_with(
        mut cb: ProgbarLogger<Vec<u8>>,
        verbose: u8,
        epochs: usize,
        steps: Option<usize>,
    ) -> String {
        let mut ctx = MockContext::new();
        ctx.params = RunParams {
            epochs,
            steps,
            verbose,
        };
        cb.on_train_begin(&mut ctx).unwrap();
        for epoch in 0..epochs {
            cb.on_epoch_begin(epoch, &mut ctx).unwrap();
            for batch in 0..3 {
                ctx.set_logs(&[("loss", 0.5 / (batch + 1) as f32), ("accuracy", 0.25)]);
                cb.on_train_batch_end(batch, &mut ctx).unwrap();
            }
            ctx.set_logs(&[
                ("loss", 0.123_44),
                ("accuracy", 0.5),
                ("val_loss", 0.000_12),
                ("val_accuracy", 1.0),
            ]);
            // Validation inside fit is silent.
            cb.on_test_begin(&mut ctx).unwrap();
            cb.on_test_batch_end(0, &mut ctx).unwrap();
            cb.on_test_end(&mut ctx).unwrap();
            cb.on_epoch_end(epoch, &mut ctx).unwrap();
        }
        cb.on_train_end(&mut ctx).unwrap();
        String::from_utf8(cb.into_inner()).unwrap()
    }

    #[test]
    fn verbose_one_prints_the_final_bar_line_per_epoch() {
        assert_eq!(
            fit(1, 2, Some(3)),
            "Epoch 1/2\n\
             3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 0s/step - loss: 0.1234 - accuracy: 0.5000 - val_loss: 1.2000e-04 - val_accuracy: 1.0000\n\
             Epoch 2/2\n\
             3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 0s/step - loss: 0.1234 - accuracy: 0.5000 - val_loss: 1.2000e-04 - val_accuracy: 1.0000\n"
        );
    }

    #[test]
    fn verbose_two_prints_one_line_per_epoch_and_counts_unknown_steps() {
        assert_eq!(
            fit(2, 1, None),
            "3/3 - 0s - 0s/step - loss: 0.1234 - accuracy: 0.5000 - val_loss: 1.2000e-04 - val_accuracy: 1.0000\n"
        );
    }

    #[test]
    fn a_terminal_gets_a_live_bar_and_the_same_final_lines() {
        let mut cb = ProgbarLogger::to_writer(Vec::new()).with_clock(fixed_clock);
        cb.tty = true;
        let mut ctx = MockContext::new().with_logs(&[("loss", 0.5)]);
        ctx.params = RunParams {
            epochs: 1,
            steps: Some(3),
            verbose: 1,
        };
        cb.on_train_begin(&mut ctx).unwrap();
        cb.on_epoch_begin(0, &mut ctx).unwrap();
        assert!(cb.bar.is_none());
        cb.on_train_batch_end(0, &mut ctx).unwrap();
        let bar = cb.bar.clone().unwrap();
        assert_eq!((bar.position(), bar.length()), (1, Some(3)));
        assert_eq!(bar.message(), "loss: 0.5000");
        cb.on_epoch_end(0, &mut ctx).unwrap();
        assert!(cb.bar.is_none() && bar.is_finished());
        assert_eq!(
            String::from_utf8(cb.into_inner()).unwrap(),
            "3/3 ━━━━━━━━━━━━━━━━━━━━ 0s 0s/step - loss: 0.5000\n"
        );
    }

    #[test]
    fn verbose_zero_prints_nothing() {
        assert_eq!(fit(0, 2, Some(3)), "");
    }

    #[test]
    fn evaluate_outside_fit_gets_its_own_line() {
        let mut cb = ProgbarLogger::to_writer(Vec::new())
            .with_clock(fixed_clock)
            .with_verbose(2);
        let mut ctx = MockContext::new().with_logs(&[("loss", 2.5)]);
        ctx.params = RunParams {
            epochs: 0,
            steps: Some(2),
            verbose: 1,
        };
        cb.on_test_begin(&mut ctx).unwrap();
        cb.on_test_batch_end(0, &mut ctx).unwrap();
        cb.on_test_batch_end(1, &mut ctx).unwrap();
        cb.on_test_end(&mut ctx).unwrap();
        assert_eq!(
            String::from_utf8(cb.into_inner()).unwrap(),
            "2/2 - 0s - 0s/step - loss: 2.5000\n"
        );
    }

    #[test]
    fn step_times_use_the_unit_keras_picks() {
        assert_eq!(format_time(0.0), " 0s/step");
        assert_eq!(format_time(2.4), " 2s/step");
        assert_eq!(format_time(0.012), " 12ms/step");
        assert_eq!(format_time(0.000_25), " 250us/step");
    }

    #[test]
    fn verbose_two_formats_negative_values_in_scientific_notation_like_keras() {
        let mut logs = Logs::new();
        logs.set("r2", -0.5);
        assert_eq!(format_logs(&logs, 1), " - r2: -0.5000");
        assert_eq!(format_logs(&logs, 2), " - r2: -5.0000e-01");
    }
}
