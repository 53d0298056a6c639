//! The trainer's implementation of [`CallbackContext`].

use dfdx::nn::tensor_collection::TensorCollection;

use super::{fit_view::FitView, ResumePoint};
use crate::{
    callbacks::{CallbackContext, RunParams},
    device::KerasDevice,
    metrics::Direction,
    model,
    optimizers::Optimizer,
    state::{FlatParams, HyperParameters},
    state::{History, Logs},
    Error, Result,
};

/// What a callback sees during a hook: disjoint borrows of the trainer's parts, and, in `fit`,
/// a view of the loop's progress (`F`; `()` elsewhere).
pub(crate) struct Ctx<'a, M, O, D: KerasDevice, F = ()> {
    pub model: &'a mut M,
    pub optimizer: &'a mut O,
    pub params: &'a mut FlatParams,
    /// Where resident steps left the optimizer's slots; reads of the host state sync first.
    pub step: &'a mut model::StepBuffers<D>,
    pub logs: &'a mut Logs,
    pub stop: &'a mut bool,
    pub run: RunParams,
    pub directions: &'a [(String, Direction)],
    /// Whether this process writes (see [`CallbackContext::is_chief`]).
    pub chief: bool,
    pub fit: F,
}

impl<M: TensorCollection<f32, D>, O: Optimizer, D: KerasDevice, F: FitView> CallbackContext
    for Ctx<'_, M, O, D, F>
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

    fn weights(&mut self) -> Result<&FlatParams> {
        model::sync_values(self.model, self.params, self.step)?;
        Ok(self.params)
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
        self.step.values_stale = false;
        model::scatter_values(self.model, self.params)
    }

    fn optimizer_state(&mut self) -> Result<Vec<(String, Vec<f32>)>> {
        model::sync_host(self.model, self.optimizer, self.params, self.step)?;
        Ok(self.optimizer.state())
    }

    fn load_optimizer_state(&mut self, state: &[(String, Vec<f32>)]) -> Result<()> {
        // Synced first, so that the next resident step uploads the loaded slots.
        model::sync_host(self.model, self.optimizer, self.params, self.step)?;
        self.optimizer.load_state(state)
    }

    fn metric_direction(&self, name: &str) -> Option<Direction> {
        self.directions
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, d)| *d)
    }

    fn resume_point(&self) -> Result<Option<ResumePoint>> {
        self.fit.resume_point(self.logs)
    }

    fn history(&self) -> Option<&History> {
        self.fit.history()
    }

    fn request_resume(&mut self, point: ResumePoint) -> Result<()> {
        self.fit.request_resume(point)
    }

    fn non_trainable_weights(&self) -> Result<FlatParams> {
        crate::model::non_trainable_layout(self.model)
    }

    fn hyper_parameters(&self) -> Result<Option<HyperParameters>> {
        crate::model::hyper_parameters(self.model).map(Some)
    }

    fn set_non_trainable_weights(&mut self, values: &[f32]) -> Result<()> {
        crate::model::scatter_non_trainable(self.model, values)
    }

    fn is_chief(&self) -> bool {
        self.chief
    }
}

/// Builds a [`Ctx`] over a trainer's fields (a macro, so the borrows stay disjoint).
macro_rules! ctx {
    ($trainer:expr, $logs:expr, $run:expr) => {
        $crate::trainer::context::ctx!($trainer, $logs, $run, ())
    };
    ($trainer:expr, $logs:expr, $run:expr, $fit:expr) => {
        $crate::trainer::context::Ctx {
            model: &mut $trainer.model,
            optimizer: &mut $trainer.optimizer,
            params: &mut $trainer.params,
            step: &mut $trainer.step_buffers,
            logs: $logs,
            stop: &mut $trainer.stop_training,
            run: $run,
            directions: &$trainer.directions,
            chief: $trainer.chief,
            fit: $fit,
        }
    };
}
pub(crate) use ctx;
