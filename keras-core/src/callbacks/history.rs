//! `keras.callbacks.History`: per-epoch logs, returned by `fit`.

use std::collections::BTreeMap;

use super::{Callback, CallbackContext};
use crate::Result;

/// The epoch-end logs of a `fit` run: `history["loss"][e]` is epoch `e`'s loss.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct History {
    /// The epochs that ran (0-based indices).
    pub epochs: Vec<usize>,
    /// Key order, as first seen (`loss`, metrics, `val_*`, ...).
    pub keys: Vec<String>,
    /// Values per key, one per epoch that logged the key.
    pub history: BTreeMap<String, Vec<f32>>,
}

impl History {
    /// The values logged for `key`, if any.
    pub fn get(&self, key: &str) -> Option<&[f32]> {
        self.history.get(key).map(Vec::as_slice)
    }

    /// Serialises to JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| crate::Error::invalid("history", e.to_string()))
    }
}

impl Callback for History {
    fn on_train_begin<C: CallbackContext>(&mut self, _ctx: &mut C) -> Result<()> {
        Ok(())
    }

    fn on_epoch_end<C: CallbackContext>(&mut self, epoch: usize, ctx: &mut C) -> Result<()> {
        self.epochs.push(epoch);
        for (k, v) in ctx.logs().iter() {
            if !self.history.contains_key(k) {
                self.keys.push(k.to_string());
            }
            self.history.entry(k.to_string()).or_default().push(v);
        }
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
