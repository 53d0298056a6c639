//! `keras.callbacks.History`: the callback that records each epoch's logs into the
//! [`History`] that `fit` returns (the values live in [`state`](crate::state)).

use super::{Callback, CallbackContext};
use crate::state::History;
use crate::Result;

impl Callback for History {
    /// No batch hook reads the logs.
    fn reads_batch_logs(&self) -> bool {
        false
    }

    fn on_train_begin<C: CallbackContext>(&mut self, _ctx: &mut C) -> Result<()> {
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        self.record(epoch, ctx.logs());
        Ok(())
    }

    fn state(&self) -> Option<serde_json::Value> {
        serde_json::to_value(self).ok()
    }

    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        *self = serde_json::from_value(state.clone())
            .map_err(|e| crate::Error::invalid("state", format!("not a History: {e}")))?;
        Ok(())
    }
}
