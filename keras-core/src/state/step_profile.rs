//! [`StepProfile`]: where a training step's time goes, phase by phase, on the host and on the
//! device.

/// A phase of a training step, in the order a step runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Phase {
    /// The step's first mark (no time of its own).
    Start,
    /// The batch's upload to the device.
    Upload,
    /// The model's forward pass.
    Forward,
    /// The metric states kept on the device take the batch (labels uploaded, kernels queued).
    Metrics,
    /// The loss (on the device, or read back and computed on the host).
    Loss,
    /// The backward pass.
    Backward,
    /// The gradients' sum over processes (data-parallel) and the optimizer's update.
    Optimizer,
    /// The loss tracker and the metrics kept on the host take the batch.
    Tracker,
    /// From one profiled step's end to the next one's start: the next batch's preparation,
    /// callbacks, logs, an epoch's end.
    Between,
}

impl Phase {
    /// Every phase with time of its own, in step order.
    pub const TIMED: [Phase; 8] = [
        Phase::Upload,
        Phase::Forward,
        Phase::Metrics,
        Phase::Loss,
        Phase::Backward,
        Phase::Optimizer,
        Phase::Tracker,
        Phase::Between,
    ];

    /// The phase's name in a report.
    pub fn name(self) -> &'static str {
        match self {
            Phase::Start => "start",
            Phase::Upload => "upload",
            Phase::Forward => "forward",
            Phase::Metrics => "metrics",
            Phase::Loss => "loss",
            Phase::Backward => "backward",
            Phase::Optimizer => "optimizer",
            Phase::Tracker => "tracker",
            Phase::Between => "between steps",
        }
    }
}

/// One phase's time per step.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct PhaseTime {
    /// The phase.
    pub phase: Phase,
    /// Host wall time per step, in milliseconds: how long the host took to run (or, on a GPU,
    /// to queue) the phase.
    pub host_ms: f64,
    /// Device time per step, in milliseconds: between the device's marks before and after the
    /// phase (CUDA events on `Cuda`; on `Cpu` the host's clock again).
    pub device_ms: f64,
}

/// Where the profiled training steps' time went (see
/// [`Trainer::set_step_profile`](crate::Trainer::set_step_profile)): per phase, the host's
/// and the device's time per step, averaged over the profiled steps
/// ([`Phase::Between`] over the gaps between them).
///
/// # Examples
/// ```
/// use keras_core::state::{Phase, StepProfile};
/// let profile = StepProfile::default();
/// assert_eq!(profile.steps, 0);
/// assert_eq!(profile.phase(Phase::Forward), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
#[non_exhaustive]
pub struct StepProfile {
    /// How many steps were profiled.
    pub steps: usize,
    /// Each timed phase that ran, in step order.
    pub phases: Vec<PhaseTime>,
}

impl StepProfile {
    /// The profile of `steps` steps from the host's and the device's intervals between
    /// consecutive marks, each labelled with the phase it ends ([`Phase::Start`]: the gap
    /// before a step, counted as [`Phase::Between`]).
    pub(crate) fn from_intervals(
        steps: usize,
        ends: &[Phase],
        host: &[f64],
        device: &[f64],
    ) -> Self {
        let gaps = steps.saturating_sub(1).max(1) as f64;
        let per_step = steps.max(1) as f64;
        let phases = Phase::TIMED
            .iter()
            .filter_map(|&phase| {
                let mut seen = false;
                let (mut h, mut d) = (0.0, 0.0);
                for ((&end, &host_ms), &device_ms) in ends.iter().zip(host).zip(device) {
                    let end = if end == Phase::Start {
                        Phase::Between
                    } else {
                        end
                    };
                    if end == phase {
                        seen = true;
                        h += host_ms;
                        d += device_ms;
                    }
                }
                let divisor = if phase == Phase::Between {
                    gaps
                } else {
                    per_step
                };
                seen.then(|| PhaseTime {
                    phase,
                    host_ms: h / divisor,
                    device_ms: d / divisor,
                })
            })
            .collect();
        Self { steps, phases }
    }

    /// The time of `phase`, if it ran.
    pub fn phase(&self, phase: Phase) -> Option<PhaseTime> {
        self.phases.iter().copied().find(|p| p.phase == phase)
    }

    /// Host and device time of one step, every phase but [`Phase::Between`] summed.
    pub fn step_ms(&self) -> (f64, f64) {
        self.phases
            .iter()
            .filter(|p| p.phase != Phase::Between)
            .fold((0.0, 0.0), |(h, d), p| (h + p.host_ms, d + p.device_ms))
    }
}

impl std::fmt::Display for StepProfile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "step profile over {} steps (ms per step)", self.steps)?;
        writeln!(f, "  {:<14} {:>10} {:>10}", "phase", "host", "device")?;
        for p in &self.phases {
            writeln!(
                f,
                "  {:<14} {:>10.4} {:>10.4}",
                p.phase.name(),
                p.host_ms,
                p.device_ms
            )?;
        }
        let (host, device) = self.step_ms();
        write!(f, "  {:<14} {:>10.4} {:>10.4}", "step", host, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_add_up_per_phase_and_gaps_count_between_steps() {
        use Phase::*;
        // Two steps: Start, Upload, Forward | Start, Upload, Forward; intervals end at each mark
        // after the first.
        let ends = [Upload, Forward, Start, Upload, Forward];
        let host = [1.0, 2.0, 10.0, 3.0, 4.0];
        let device = [0.5, 1.5, 9.0, 2.5, 3.5];
        let p = StepProfile::from_intervals(2, &ends, &host, &device);
        assert_eq!(p.steps, 2);
        assert_eq!(p.phase(Upload).map(|t| t.host_ms), Some(2.0));
        assert_eq!(p.phase(Forward).map(|t| t.device_ms), Some(2.5));
        assert_eq!(p.phase(Between).map(|t| t.host_ms), Some(10.0));
        assert_eq!(p.phase(Loss), None);
        assert_eq!(p.step_ms(), (5.0, 4.0));
        assert!(p.to_string().contains("forward"));
    }
}
