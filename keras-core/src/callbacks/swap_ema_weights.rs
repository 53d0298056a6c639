//! `keras.callbacks.SwapEMAWeights`: evaluate with the optimizer's moving-average weights.

use super::{Callback, CallbackContext};
use crate::{Error, Result};

/// Swaps the model's weights with the optimizer's exponential moving averages (EMA) around
/// evaluation and prediction, so that metrics are computed with the EMA weights; with
/// `swap_on_epoch`, also around each epoch end, so that callbacks placed after it (e.g.
/// `ModelCheckpoint`) see the EMA weights.
///
/// Convention with the optimizer (its [`CallbackContext::optimizer_state`]): the averages are
/// either one entry named `ema` holding all variables flat, in the layout of
/// [`CallbackContext::weights`], or one entry `ema/<variable name>` per variable. A swap writes
/// the EMA into the model ([`CallbackContext::set_weights`]) and the model's weights into those
/// entries ([`CallbackContext::load_optimizer_state`] with the whole state). An optimizer without
/// them (no `use_ema`) is an [`Error::InvalidArgument`].
///
/// Unlike Keras (whose `on_predict_end` never swaps back), the weights are swapped back after
/// `predict` too.
///
/// ```
/// use keras_core::callbacks::SwapEMAWeights;
///
/// let for_checkpoints = SwapEMAWeights::new().with_swap_on_epoch(true);
/// # let _ = for_checkpoints;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SwapEMAWeights {
    swap_on_epoch: bool,
    ema_in_model: bool,
}

impl SwapEMAWeights {
    /// Swaps around evaluation and prediction only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also swap at each epoch end (and back at the next epoch's start). Defaults to `false`.
    pub fn with_swap_on_epoch(mut self, swap_on_epoch: bool) -> Self {
        self.swap_on_epoch = swap_on_epoch;
        self
    }

    /// Whether the model currently holds the EMA weights.
    pub fn ema_in_model(&self) -> bool {
        self.ema_in_model
    }

    /// Where each variable's average lives: `(entry index, offset in the entry)` per variable.
    fn locate<C: CallbackContext>(
        ctx: &mut C,
        state: &[(String, Vec<f32>)],
    ) -> Result<Vec<(usize, usize)>> {
        let weights = ctx.weights()?;
        if let Some(i) = state.iter().position(|(n, _)| n == "ema") {
            if state[i].1.len() != weights.len() {
                return Err(Error::ShapeMismatch {
                    name: "ema",
                    expected: format!("{} values (the model's weights)", weights.len()),
                    got: format!("{} values", state[i].1.len()),
                });
            }
            return Ok(weights.vars.iter().map(|v| (i, v.offset)).collect());
        }
        weights
            .vars
            .iter()
            .map(|var| {
                let name = format!("ema/{}", var.name);
                let i = state.iter().position(|(n, _)| *n == name).ok_or_else(|| {
                    Error::invalid(
                        "optimizer",
                        format!(
                            "SwapEMAWeights needs an optimizer with `use_ema`: its state has no `ema` \
                             or `{name}` entry"
                        ),
                    )
                })?;
                if state[i].1.len() != var.len {
                    return Err(Error::ShapeMismatch {
                        name: "ema",
                        expected: format!("{} values for `{}`", var.len, var.name),
                        got: format!("{} values", state[i].1.len()),
                    });
                }
                Ok((i, 0))
            })
            .collect()
    }

    /// Exchanges model weights and averages.
    fn swap<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        let mut state = ctx.optimizer_state()?;
        let places = Self::locate(ctx, &state)?;
        let weights = ctx.weights()?;
        let mut values = weights.values.clone();
        for (var, &(entry, offset)) in weights.vars.iter().zip(&places) {
            let ema = &mut state[entry].1[offset..offset + var.len];
            ema.swap_with_slice(&mut values[var.range()]);
        }
        ctx.set_weights(&values)?;
        ctx.load_optimizer_state(&state)?;
        self.ema_in_model = !self.ema_in_model;
        Ok(())
    }

    /// Copies the model's (EMA) weights into the averages, so both hold the EMA (Keras's
    /// `_finalize_ema_values`, before the end-of-fit EMA overwrite).
    fn finalize<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        let mut state = ctx.optimizer_state()?;
        let places = Self::locate(ctx, &state)?;
        let weights = ctx.weights()?;
        for (var, &(entry, offset)) in weights.vars.iter().zip(&places) {
            state[entry].1[offset..offset + var.len].copy_from_slice(&weights.values[var.range()]);
        }
        ctx.load_optimizer_state(&state)
    }
}

impl Callback for SwapEMAWeights {
    /// No batch hook reads the logs.
    fn reads_batch_logs(&self) -> bool {
        false
    }

    fn on_epoch_begin<C: CallbackContext>(&mut self, _epoch: usize, ctx: &mut C) -> Result<()> {
        if self.swap_on_epoch && self.ema_in_model {
            self.swap(ctx)?;
        }
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        if self.swap_on_epoch && !self.ema_in_model {
            self.swap(ctx)?;
            if epoch + 1 == ctx.params().epochs {
                self.finalize(ctx)?;
            }
        }
        Ok(())
    }

    fn on_test_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if !self.ema_in_model {
            self.swap(ctx)?;
        }
        Ok(())
    }

    fn on_test_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        if self.ema_in_model {
            self.swap(ctx)?;
        }
        Ok(())
    }

    fn on_predict_begin<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.on_test_begin(ctx)
    }

    fn on_predict_end<C: CallbackContext>(&mut self, ctx: &mut C) -> Result<()> {
        self.on_test_end(ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::callbacks::test_context::MockContext;

    #[test]
    fn evaluation_sees_the_ema_weights_and_training_gets_its_own_back() {
        let mut ctx = MockContext::new();
        ctx.optimizer_state = vec![
            ("iterations".into(), vec![1.0]),
            ("ema".into(), vec![-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]),
        ];
        let mut cb = SwapEMAWeights::new();
        cb.on_test_begin(&mut ctx).unwrap();
        assert_eq!(ctx.weights.values, [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]);
        assert_eq!(ctx.optimizer_state[1].1, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert!(cb.ema_in_model());
        cb.on_test_end(&mut ctx).unwrap();
        assert_eq!(ctx.weights.values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(
            ctx.optimizer_state[1].1,
            [-1.0, -2.0, -3.0, -4.0, -5.0, -6.0]
        );
        assert_eq!(ctx.optimizer_state[0].1, [1.0]);
    }

    #[test]
    fn per_variable_entries_are_swapped_too() {
        let mut ctx = MockContext::new();
        ctx.optimizer_state = vec![
            ("ema/dense.bias".into(), vec![50.0, 60.0]),
            ("ema/dense.kernel".into(), vec![10.0, 20.0, 30.0, 40.0]),
        ];
        let mut cb = SwapEMAWeights::new();
        cb.on_predict_begin(&mut ctx).unwrap();
        assert_eq!(ctx.weights.values, [10.0, 20.0, 30.0, 40.0, 50.0, 60.0]);
        cb.on_predict_end(&mut ctx).unwrap();
        assert_eq!(ctx.weights.values, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
    }

    #[test]
    fn the_last_epoch_leaves_the_ema_in_both_places_when_swapping_on_epochs() {
        let mut ctx = MockContext::new();
        ctx.params.epochs = 1;
        ctx.optimizer_state = vec![("ema".into(), vec![0.0; 6])];
        let mut cb = SwapEMAWeights::new().with_swap_on_epoch(true);
        cb.on_epoch_begin(0, &mut ctx).unwrap();
        cb.on_epoch_end(0, &mut ctx).unwrap();
        assert_eq!(ctx.weights.values, [0.0; 6]);
        assert_eq!(ctx.optimizer_state[0].1, [0.0; 6]);
    }

    #[test]
    fn an_optimizer_without_ema_is_an_error() {
        let mut ctx = MockContext::new();
        ctx.optimizer_state = vec![("iterations".into(), vec![1.0])];
        let err = SwapEMAWeights::new().on_test_begin(&mut ctx).unwrap_err();
        assert!(matches!(
            err,
            Error::InvalidArgument {
                name: "optimizer",
                ..
            }
        ));
    }
}
