//! A `CallbackContext` for the unit tests of this module: logs, weights, a learning rate, a stop
//! flag and an optimizer state, all in memory.

use super::{CallbackContext, Logs, RunParams};
use crate::{metrics::Direction, state::FlatParams, Error, Result};

/// In-memory trainer stand-in.
#[derive(Debug, Clone, Default)]
pub(crate) struct MockContext {
    pub logs: Logs,
    pub weights: FlatParams,
    pub lr: f32,
    pub stop: bool,
    pub params: RunParams,
    pub iterations: u64,
    pub optimizer_state: Vec<(String, Vec<f32>)>,
    pub set_weights_calls: usize,
}

impl MockContext {
    /// A context with one `[2, 2]` kernel and a `[2]` bias, lr 0.1.
    pub fn new() -> Self {
        let mut weights =
            FlatParams::from_layout([("dense.kernel", &[2usize, 2][..]), ("dense.bias", &[2][..])]);
        weights.values = vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        Self {
            weights,
            lr: 0.1,
            params: RunParams {
                epochs: 3,
                steps: Some(4),
                verbose: 1,
            },
            ..Self::default()
        }
    }

    /// Replaces the logs with `pairs`.
    pub fn with_logs(mut self, pairs: &[(&str, f32)]) -> Self {
        self.set_logs(pairs);
        self
    }

    /// Replaces the logs with `pairs`.
    pub fn set_logs(&mut self, pairs: &[(&str, f32)]) {
        self.logs.clear();
        for (k, v) in pairs {
            self.logs.set(k, *v);
        }
    }
}

impl CallbackContext for MockContext {
    fn logs(&self) -> &Logs {
        &self.logs
    }
    fn logs_mut(&mut self) -> &mut Logs {
        &mut self.logs
    }
    fn stop_training(&mut self) {
        self.stop = true;
    }
    fn stop_requested(&self) -> bool {
        self.stop
    }
    fn params(&self) -> RunParams {
        self.params
    }
    fn learning_rate(&self) -> f32 {
        self.lr
    }
    fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        if !lr.is_finite() || lr < 0.0 {
            return Err(Error::invalid(
                "learning_rate",
                format!("{lr} is not a finite non-negative number"),
            ));
        }
        self.lr = lr;
        Ok(())
    }
    fn iterations(&self) -> u64 {
        self.iterations
    }
    fn weights(&mut self) -> Result<&FlatParams> {
        Ok(&self.weights)
    }
    fn set_weights(&mut self, values: &[f32]) -> Result<()> {
        if values.len() != self.weights.values.len() {
            return Err(Error::invalid("values", "wrong length"));
        }
        self.weights.values.copy_from_slice(values);
        self.set_weights_calls += 1;
        Ok(())
    }
    fn optimizer_state(&mut self) -> Result<Vec<(String, Vec<f32>)>> {
        Ok(self.optimizer_state.clone())
    }
    fn load_optimizer_state(&mut self, state: &[(String, Vec<f32>)]) -> Result<()> {
        self.optimizer_state = state.to_vec();
        Ok(())
    }
    fn metric_direction(&self, name: &str) -> Option<Direction> {
        (name == "custom_score").then_some(Direction::Up)
    }
}
