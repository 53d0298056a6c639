//! The trainer's implementation of [`CallbackContext`].

use std::marker::PhantomData;

use dfdx::nn::tensor_collection::TensorCollection;

use crate::{
    callbacks::{CallbackContext, Logs, RunParams},
    device::KerasDevice,
    metrics::Direction,
    model,
    optimizers::{FlatParams, Optimizer},
    Error, Result,
};

/// What a callback sees during a hook: disjoint borrows of the trainer's parts.
pub(crate) struct Ctx<'a, M, O, D> {
    pub model: &'a mut M,
    pub optimizer: &'a mut O,
    pub params: &'a mut FlatParams,
    pub logs: &'a mut Logs,
    pub stop: &'a mut bool,
    pub run: RunParams,
    pub directions: &'a [(String, Direction)],
    pub _device: PhantomData<D>,
}

impl<M: TensorCollection<f32, D>, O: Optimizer, D: KerasDevice> CallbackContext
    for Ctx<'_, M, O, D>
{
    fn logs(&self) -> &Logs {
        self.logs
    }

    fn logs_mut(&mut self) -> &mut Logs {
        self.logs
    }

    fn stop_training(&mut self) {
        *self.stop = true;
    }

    fn stop_requested(&self) -> bool {
        *self.stop
    }

    fn params(&self) -> RunParams {
        self.run
    }

    fn learning_rate(&self) -> f32 {
        self.optimizer.learning_rate()
    }

    fn set_learning_rate(&mut self, lr: f32) -> Result<()> {
        self.optimizer.set_learning_rate(lr)
    }

    fn iterations(&self) -> u64 {
        self.optimizer.iterations()
    }

    fn weights(&self) -> &FlatParams {
        self.params
    }

    fn set_weights(&mut self, values: &[f32]) -> Result<()> {
        if values.len() != self.params.values.len() {
            return Err(Error::ShapeMismatch {
                name: "weights",
                expected: format!("{} values", self.params.values.len()),
                got: format!("{} values", values.len()),
            });
        }
        self.params.values.copy_from_slice(values);
        model::scatter_values(self.model, self.params)
    }

    fn optimizer_state(&self) -> Vec<(String, Vec<f32>)> {
        self.optimizer.state()
    }

    fn load_optimizer_state(&mut self, state: &[(String, Vec<f32>)]) -> Result<()> {
        self.optimizer.load_state(state)
    }

    fn metric_direction(&self, name: &str) -> Option<Direction> {
        self.directions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| *d)
    }
}

/// Builds a [`Ctx`] over a trainer's fields (a macro, so the borrows stay disjoint).
macro_rules! ctx {
    ($trainer:expr, $logs:expr, $run:expr) => {
        $crate::trainer::context::Ctx {
            model: &mut $trainer.model,
            optimizer: &mut $trainer.optimizer,
            params: &mut $trainer.params,
            logs: $logs,
            stop: &mut $trainer.stop_training,
            run: $run,
            directions: &$trainer.directions,
            _device: ::std::marker::PhantomData,
        }
    };
}
pub(crate) use ctx;
