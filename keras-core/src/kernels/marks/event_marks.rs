//! [`EventMarks`]: a step profile's marks on `Cuda`, CUDA events recorded on the stream dfdx
//! launches its kernels on.

use std::sync::Arc;

use cudarc::driver::{result::event, sys, CudaDevice, DriverError};

/// CUDA events (with timing), recorded one per mark and reused after each read.
#[derive(Debug)]
pub struct EventMarks {
    device: Arc<CudaDevice>,
    events: Vec<sys::CUevent>,
    used: usize,
}

// SAFETY: the events are the driver's handles, owned by this value alone; the driver allows
// them to be used from any thread once the device's context is bound, which every method does
// first.
unsafe impl Send for EventMarks {}

impl EventMarks {
    /// No marks yet, on `device`.
    pub fn new(device: Arc<CudaDevice>) -> Self {
        Self {
            device,
            events: Vec::new(),
            used: 0,
        }
    }

    /// Records a mark on the device's stream, after everything queued so far.
    pub fn mark(&mut self) -> Result<(), DriverError> {
        self.device.bind_to_thread()?;
        if self.used == self.events.len() {
            self.events
                .push(event::create(sys::CUevent_flags::CU_EVENT_DEFAULT)?);
        }
        // SAFETY: the event was created by `event::create` above (or for an earlier mark) and
        // not destroyed; the stream is the device's own.
        unsafe { event::record(self.events[self.used], *self.device.cu_stream()) }?;
        self.used += 1;
        Ok(())
    }

    /// The milliseconds between consecutive marks, into `out`, once the device has reached the
    /// last; forgets the marks (their events are reused).
    pub fn take_intervals(&mut self, out: &mut Vec<f64>) -> Result<(), DriverError> {
        out.clear();
        if self.used == 0 {
            return Ok(());
        }
        self.device.bind_to_thread()?;
        // SAFETY: a recorded event of this context.
        unsafe { sys::cuEventSynchronize(self.events[self.used - 1]) }.result()?;
        for pair in self.events[..self.used].windows(2) {
            // SAFETY: both events were recorded, in order, on the same stream, and have completed
            // (the later one was waited for above).
            out.push(f64::from(unsafe { event::elapsed(pair[0], pair[1]) }?));
        }
        self.used = 0;
        Ok(())
    }
}

impl Drop for EventMarks {
    fn drop(&mut self) {
        if self.device.bind_to_thread().is_err() {
            return;
        }
        for &e in &self.events {
            // SAFETY: each event was created by `event::create` and is destroyed once.
            let _ = unsafe { event::destroy(e) };
        }
    }
}
