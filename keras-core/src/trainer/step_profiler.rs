//! [`StepProfiler`]: the marks a profiled training step leaves on the host's clock and on the
//! device's timeline, and the [`StepProfile`] they add up to.

use std::time::Instant;

use crate::device::KerasDevice;
use crate::state::{Phase, StepProfile};
use crate::{Error, Result};

/// Records the phases of training steps: it skips the first `skip` steps, then marks the next
/// `steps` (see [`Trainer::set_step_profile`](crate::Trainer::set_step_profile)).
#[derive(Debug)]
pub(crate) struct StepProfiler<D: KerasDevice> {
    skip: usize,
    remaining: usize,
    /// Whether the current step is profiled.
    active: bool,
    steps: usize,
    device: D::Marks,
    host: Vec<Instant>,
    /// The phase each mark ends.
    ends: Vec<Phase>,
}

impl<D: KerasDevice> StepProfiler<D> {
    pub(crate) fn new(dev: &D, skip: usize, steps: usize) -> Result<Self> {
        Ok(Self {
            skip,
            remaining: steps,
            active: false,
            steps: 0,
            device: dev.try_marks().map_err(Error::device)?,
            host: Vec::new(),
            ends: Vec::new(),
        })
    }

    /// A training step starts: profiled unless it is to be skipped or the profile is full.
    pub(crate) fn begin_step(&mut self, dev: &D) -> Result<()> {
        self.active = false;
        if self.skip > 0 {
            self.skip -= 1;
            return Ok(());
        }
        if self.remaining == 0 {
            return Ok(());
        }
        self.remaining -= 1;
        self.steps += 1;
        self.active = true;
        self.mark(dev, Phase::Start)
    }

    /// `phase` of the current step ends here (nothing unless the step is profiled).
    pub(crate) fn mark(&mut self, dev: &D, phase: Phase) -> Result<()> {
        if !self.active {
            return Ok(());
        }
        dev.try_mark(&mut self.device).map_err(Error::device)?;
        self.host.push(Instant::now());
        self.ends.push(phase);
        Ok(())
    }

    /// The profile of the steps marked so far (waiting for the device to reach the last mark);
    /// the marks are forgotten, and steps marked later make a new profile.
    pub(crate) fn take(&mut self, dev: &D) -> Result<StepProfile> {
        let mut device = Vec::new();
        dev.try_take_intervals(&mut self.device, &mut device)
            .map_err(Error::device)?;
        let host: Vec<f64> = self
            .host
            .windows(2)
            .map(|w| (w[1] - w[0]).as_secs_f64() * 1e3)
            .collect();
        let ends = self.ends.get(1..).unwrap_or(&[]);
        let profile = StepProfile::from_intervals(self.steps, ends, &host, &device);
        self.host.clear();
        self.ends.clear();
        self.steps = 0;
        self.active = false;
        Ok(profile)
    }
}
