//! What a callback context sees of a running `fit` beyond the trainer: the resume point and the
//! history (see [`ResumePoint`]).

use std::marker::PhantomData;

use crate::{
    device::KerasDevice,
    metrics::{MetricSet, ResidentMeans},
    state::{DataPosition, DataSignature, History, Logs, MeanState, ResumePoint},
    target::Target,
    Error, Result,
};

/// The `fit`-only part of a callback context. `()` is the view of `evaluate` and `predict`.
pub(crate) trait FitView {
    /// The resume point of this hook; `logs` are the hook's (an epoch's end adds them to the
    /// history it carries).
    fn resume_point(&self, logs: &Logs) -> Result<Option<ResumePoint>>;
    fn history(&self) -> Option<&History>;
    fn request_resume(&mut self, point: ResumePoint) -> Result<()>;
}

impl FitView for () {
    fn resume_point(&self, _logs: &Logs) -> Result<Option<ResumePoint>> {
        Ok(None)
    }

    fn history(&self) -> Option<&History> {
        None
    }

    fn request_resume(&mut self, _point: ResumePoint) -> Result<()> {
        Err(not_now())
    }
}

fn not_now() -> Error {
    Error::invalid(
        "resume",
        "a resume can only be requested in on_train_begin of fit",
    )
}

/// Borrows of the loop's state at one hook; the resume point is built only when asked for.
pub(crate) struct FitProgress<'a, Mt, Wm, D: KerasDevice, const K: usize, T> {
    pub metrics: &'a Mt,
    pub weighted_metrics: &'a Wm,
    pub loss_tracker: &'a MeanState,
    /// The device copy of the running states, ahead of the host's while it is live.
    pub resident_means: &'a ResidentMeans<D>,
    pub device: &'a D,
    pub history: &'a History,
    /// `Some(e)` in `on_epoch_end` of epoch `e`: History records the epoch after the callbacks
    /// (as Keras's runs after the user's), so a resume point taken now adds the epoch's logs.
    pub epoch_end: Option<usize>,
    /// `Some` only in `on_train_begin`: where a requested resume is stored.
    pub request: Option<&'a mut Option<ResumePoint>>,
    /// The callbacks' states, gathered for `on_train_begin` and `on_snapshot` only.
    pub callback_states: Option<&'a serde_json::Value>,
    pub epoch: usize,
    pub batch: usize,
    pub data: DataPosition,
    pub signature: &'a DataSignature,
    pub _target: PhantomData<T>,
}

impl<Mt, Wm, D, const K: usize, T> FitView for FitProgress<'_, Mt, Wm, D, K, T>
where
    D: KerasDevice,
    T: Target,
    Mt: MetricSet<K, T>,
    Wm: MetricSet<K, T>,
{
    fn resume_point(&self, logs: &Logs) -> Result<Option<ResumePoint>> {
        let mut history = self.history.clone();
        if let Some(epoch) = self.epoch_end {
            history.record(epoch, logs);
        }
        let mut loss_tracker = *self.loss_tracker;
        let mut metric_states = self.metrics.state_values_all();
        let mut weighted_metric_states = self.weighted_metrics.state_values_all();
        self.resident_means.overlay(
            self.device,
            &mut loss_tracker,
            &mut metric_states,
            &mut weighted_metric_states,
        )?;
        Ok(Some(ResumePoint {
            epoch: self.epoch,
            batch: self.batch,
            data: self.data,
            signature: self.signature.clone(),
            loss_tracker,
            metric_states,
            weighted_metric_states,
            history,
            callbacks: self.callback_states.cloned(),
        }))
    }

    fn history(&self) -> Option<&History> {
        Some(self.history)
    }

    fn request_resume(&mut self, point: ResumePoint) -> Result<()> {
        match self.request.as_deref_mut() {
            Some(slot) => {
                *slot = Some(point);
                Ok(())
            }
            None => Err(not_now()),
        }
    }
}

/// Builds a [`FitProgress`] over a trainer's metric fields (a macro, so that the borrows stay
/// disjoint from the other fields the context borrows).
macro_rules! fit_progress {
    ($trainer:expr, $k:tt, $t:ty, $history:expr, $request:expr, $epoch:expr, $batch:expr, $data:expr, $sig:expr) => {
        $crate::trainer::fit_view::fit_progress!(
            $trainer, $k, $t, $history, $request, $epoch, $batch, $data, $sig, None, None
        )
    };
    ($trainer:expr, $k:tt, $t:ty, $history:expr, $request:expr, $epoch:expr, $batch:expr, $data:expr, $sig:expr, $epoch_end:expr, $states:expr) => {
        $crate::trainer::fit_view::FitProgress::<_, _, _, $k, $t> {
            metrics: &$trainer.metrics,
            weighted_metrics: &$trainer.weighted_metrics,
            loss_tracker: &$trainer.loss_tracker,
            resident_means: &$trainer.resident_means,
            device: &$trainer.device,
            history: $history,
            epoch_end: $epoch_end,
            request: $request,
            callback_states: $states,
            epoch: $epoch,
            batch: $batch,
            data: $data,
            signature: $sig,
            _target: ::std::marker::PhantomData,
        }
    };
}
pub(crate) use fit_progress;
