//! The per-epoch logs of a `fit` run (Keras's `History` object's values; the callback that
//! records them is in `callbacks`).

use std::collections::BTreeMap;

use super::Logs;
use crate::Result;

/// The epoch-end logs of a `fit` run: `history["loss"][e]` is epoch `e`'s loss.
///
/// ```
/// use keras_core::callbacks::{Callback, History};
/// # use keras_core::callbacks::{CallbackContext, Logs, RunParams};
/// # use keras_core::optimizers::FlatParams;
/// # struct Ctx(Logs, FlatParams);
/// # impl CallbackContext for Ctx {
/// #     fn logs(&self) -> &Logs { &self.0 }
/// #     fn logs_mut(&mut self) -> &mut Logs { &mut self.0 }
/// #     fn stop_training(&mut self) {}
/// #     fn stop_requested(&self) -> bool { false }
/// #     fn params(&self) -> RunParams { RunParams::default() }
/// #     fn learning_rate(&self) -> f32 { 0.1 }
/// #     fn set_learning_rate(&mut self, _: f32) -> keras_core::Result<()> { Ok(()) }
/// #     fn iterations(&self) -> u64 { 0 }
/// #     fn weights(&mut self) -> keras_core::Result<&FlatParams> { Ok(&self.1) }
/// #     fn set_weights(&mut self, _: &[f32]) -> keras_core::Result<()> { Ok(()) }
/// #     fn optimizer_state(&mut self) -> keras_core::Result<Vec<(String, Vec<f32>)>> { Ok(vec![]) }
/// #     fn load_optimizer_state(&mut self, _: &[(String, Vec<f32>)]) -> keras_core::Result<()> { Ok(()) }
/// # }
/// let mut ctx = Ctx(Logs::new(), FlatParams::default());
/// let mut history = History::default();
/// for epoch in 0..3 {
///     ctx.0.set("loss", 1.0 / (epoch + 1) as f32);
///     ctx.0.set("val_loss", 1.5 / (epoch + 1) as f32);
///     history.on_epoch_end(epoch, &mut ctx)?;
/// }
/// assert_eq!(history.get("loss"), Some(&[1.0, 0.5, 1.0 / 3.0][..]));
/// let svg = std::env::temp_dir().join(format!("doc-history-{}.svg", std::process::id()));
/// history.plot_svg(&svg)?;
/// let text = std::fs::read_to_string(&svg).map_err(|e| keras_core::Error::io(&svg, e))?;
/// assert!(text.starts_with("<svg"));
/// # std::fs::remove_file(&svg).ok();
/// # Ok::<(), keras_core::Error>(())
/// ```
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

    /// Records `logs` as epoch `epoch`'s (what `on_epoch_end` does; also used to build a resume
    /// point at an epoch's end, before History itself has run).
    pub fn record(&mut self, epoch: usize, logs: &Logs) {
        self.epochs.push(epoch);
        for (k, v) in logs.iter() {
            if !self.history.contains_key(k) {
                self.keys.push(k.to_string());
            }
            self.history.entry(k.to_string()).or_default().push(v);
        }
    }

    /// Serialises to JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map_err(|e| crate::Error::invalid("history", e.to_string()))
    }
}
