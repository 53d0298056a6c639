//! The bound on what the device's allocation cache may hold.
//!
//! [`Trainer::compile`](super::Trainer::compile) turns on dfdx's allocation cache: a freed
//! buffer is kept, keyed by its size, for the next request of that size. dfdx's cache has no
//! bound of its own, so a buffer that enters it and is never asked for again (one moved in from a
//! `Vec` by a custom layer's `tensor_from_vec`, say) stays until the cache is emptied. The
//! project's own layers and the trainer ask the allocator for every per-step buffer, so with them
//! the cache reaches a steady size after the first steps; this budget is the bound for the rest.
//!
//! dfdx keeps the cache's contents private, so the budget watches the memory the device reports
//! in use ([`KerasDevice::memory_in_use`]: the process's resident memory on `Cpu`, the GPU's
//! used memory on `Cuda`). It takes a reference reading once the steps are warm, and when the
//! memory in use has grown past the reference by more than the limit it empties the cache (the
//! surplus goes back to the system; the next step refills what it needs) and takes a new
//! reference. It reads the memory at most every [`CHECK_INTERVAL`] (about 6 µs a reading on Linux), so a step costs one clock
//! read.

use std::time::{Duration, Instant};

use crate::{device::KerasDevice, Error, Result};

/// The limit a trainer starts with: 256 MiB of growth over the warm reading.
pub const DEFAULT_CACHE_LIMIT: usize = 256 << 20;

/// The shortest time between two readings of the memory in use.
pub const CHECK_INTERVAL: Duration = Duration::from_millis(10);

/// The cache bound of one trainer: the limit, the reference reading and when it last read.
#[derive(Debug, Clone)]
pub(crate) struct CacheBudget {
    /// Growth over the reference that empties the cache; `None` turns the bound off.
    limit: Option<usize>,
    /// The memory in use when the steps were warm (or just after the cache was last emptied).
    reference: Option<usize>,
    /// When the memory was last read; `None` before the first step.
    last_read: Option<Instant>,
    /// How many times the cache was emptied to keep within the limit.
    releases: usize,
}

impl Default for CacheBudget {
    fn default() -> Self {
        Self::new(Some(DEFAULT_CACHE_LIMIT))
    }
}

impl CacheBudget {
    pub(crate) fn new(limit: Option<usize>) -> Self {
        Self {
            limit,
            reference: None,
            last_read: None,
            releases: 0,
        }
    }

    pub(crate) fn limit(&self) -> Option<usize> {
        self.limit
    }

    pub(crate) fn releases(&self) -> usize {
        self.releases
    }

    /// Called after each step: reads the memory in use when [`CHECK_INTERVAL`] has passed since
    /// the last reading (the first step only starts the clock, so the reference is a warm one),
    /// and empties `device`'s cache when the memory has grown past the limit.
    pub(crate) fn after_step<D: KerasDevice>(&mut self, device: &D) -> Result<()> {
        let Some(limit) = self.limit else {
            return Ok(());
        };
        let now = Instant::now();
        let Some(last) = self.last_read else {
            self.last_read = Some(now);
            return Ok(());
        };
        if now.duration_since(last) < CHECK_INTERVAL {
            return Ok(());
        }
        self.last_read = Some(now);
        let Some(in_use) = device.memory_in_use() else {
            return Ok(());
        };
        match self.reference {
            None => self.reference = Some(in_use),
            Some(reference) if in_use.saturating_sub(reference) > limit => {
                device.try_empty_cache().map_err(Error::device)?;
                self.releases += 1;
                // The next reading (a step later, warm again) is the new reference.
                self.reference = None;
            }
            Some(_) => {}
        }
        Ok(())
    }
}

/// Empties the device's cache when dropped. The last field of a [`Trainer`](super::Trainer), so
/// that it drops after the model, the gradients and every other tensor the trainer holds:
/// dfdx's cache keeps freed buffers until it is emptied and frees none of them when the device
/// itself goes away, so without this a trainer dropped with its device (a fresh device per run,
/// as in a hyper-parameter search) would leave its model's buffers allocated for good.
#[derive(Debug, Clone)]
pub(crate) struct EmptyCacheOnDrop<D: KerasDevice>(pub(crate) D);

impl<D: KerasDevice> Drop for EmptyCacheOnDrop<D> {
    fn drop(&mut self) {
        // Nothing to report to from a destructor; a failure leaves the buffers in the cache.
        let _ = self.0.try_empty_cache();
    }
}
