//! [`PinnedRing`]: a ring of pinned (page-locked) host buffers that uploads go through on
//! `Cuda`, each with an event that marks when its last copy to the device ran.

use std::sync::Arc;

use cudarc::driver::{sys, CudaDevice, DevicePtrMut, DriverError};

/// How many uploads may be in flight before the oldest one's buffer is reused (and waited for):
/// a step makes up to four (batch, labels, weights, metric labels), so the host can run about
/// two steps ahead of the device.
const SLOTS: usize = 8;

/// One pinned buffer and the event recorded after its last copy.
#[derive(Debug)]
struct Slot {
    /// Pinned host memory of `capacity` values (null while none is allocated).
    host: *mut f32,
    capacity: usize,
    /// Recorded on the stream after the copy from `host` (null until the first).
    event: sys::CUevent,
    /// Whether a copy from `host` may still be running.
    pending: bool,
}

/// A ring of pinned host buffers on one CUDA device, for uploads enqueued on its stream (see
/// [`staging`](super)). Each upload takes the next buffer: it waits for that buffer's previous
/// copy (made [`SLOTS`] uploads before) to finish, writes the values into it, enqueues the copy
/// to the device and records an event after it.
#[derive(Debug)]
pub struct PinnedRing {
    device: Arc<CudaDevice>,
    slots: Vec<Slot>,
    next: usize,
}

// SAFETY: the raw pointers are pinned host allocations and events the ring owns alone (never
// shared, never aliased outside `upload`, which takes `&mut self`); the driver allows them to be
// used from any thread once the device's context is bound, which every method does first.
unsafe impl Send for PinnedRing {}

impl PinnedRing {
    /// An empty ring on `device` (buffers are allocated at the first uploads).
    pub fn new(device: Arc<CudaDevice>) -> Self {
        let slots = (0..SLOTS)
            .map(|_| Slot {
                host: std::ptr::null_mut(),
                capacity: 0,
                event: std::ptr::null_mut(),
                pending: false,
            })
            .collect();
        Self {
            device,
            slots,
            next: 0,
        }
    }

    /// Copies `values` into the first `values.len()` elements of `dst` on the device's stream,
    /// after every kernel enqueued before it; it returns once the values are in pinned memory,
    /// so `values` may change at once. `dst` must be a buffer of this device at least as long.
    pub fn upload<Dst: DevicePtrMut<f32>>(
        &mut self,
        values: &[f32],
        dst: &mut Dst,
    ) -> Result<(), DriverError> {
        if values.is_empty() {
            return Ok(());
        }
        self.device.bind_to_thread()?;
        let stream = *self.device.cu_stream();
        let slot = &mut self.slots[self.next];
        self.next = (self.next + 1) % SLOTS;
        if slot.pending {
            // SAFETY: `event` was created by `event::create` and recorded after this slot's
            // last copy; waiting on it blocks only until that copy ran.
            unsafe { sys::cuEventSynchronize(slot.event) }.result()?;
            slot.pending = false;
        }
        if slot.capacity < values.len() {
            slot.free()?;
            let capacity = values.len().next_power_of_two();
            let mut host = std::ptr::null_mut();
            // SAFETY: `host` receives a fresh page-locked allocation of `capacity` floats on the
            // bound context; no copy from the old one is pending (waited for above).
            unsafe { sys::cuMemHostAlloc(&mut host, capacity * std::mem::size_of::<f32>(), 0) }
                .result()?;
            slot.host = host.cast();
            slot.capacity = capacity;
        }
        if slot.event.is_null() {
            slot.event =
                cudarc::driver::result::event::create(sys::CUevent_flags::CU_EVENT_DISABLE_TIMING)?;
        }
        // SAFETY: `slot.host` holds `capacity >= values.len()` floats that no copy is reading
        // (its last copy finished above), and does not overlap `values` (a Rust slice).
        unsafe { std::ptr::copy_nonoverlapping(values.as_ptr(), slot.host, values.len()) };
        // SAFETY: the copy reads `values.len()` floats of pinned memory that stay untouched
        // until `slot.event` (recorded next, after the copy) has completed, and writes as many
        // into `dst`, a device buffer at least that long (the caller's contract), on the stream
        // the buffer's readers are enqueued on.
        unsafe {
            sys::cuMemcpyHtoDAsync_v2(
                *dst.device_ptr_mut(),
                slot.host.cast::<std::ffi::c_void>().cast_const(),
                std::mem::size_of_val(values),
                stream,
            )
            .result()?;
            cudarc::driver::result::event::record(slot.event, stream)?;
        }
        slot.pending = true;
        Ok(())
    }
}

impl Slot {
    /// Frees the pinned buffer (its copy must have finished).
    fn free(&mut self) -> Result<(), DriverError> {
        if !self.host.is_null() {
            // SAFETY: `host` came from `cuMemHostAlloc` and no copy from it is pending.
            unsafe { sys::cuMemFreeHost(self.host.cast()) }.result()?;
            self.host = std::ptr::null_mut();
            self.capacity = 0;
        }
        Ok(())
    }
}

impl Drop for PinnedRing {
    fn drop(&mut self) {
        if self.device.bind_to_thread().is_err() {
            return;
        }
        for slot in &mut self.slots {
            if slot.pending {
                // SAFETY: as in `upload`: the event marks the slot's last copy.
                let _ = unsafe { sys::cuEventSynchronize(slot.event) }.result();
            }
            let _ = slot.free();
            if !slot.event.is_null() {
                // SAFETY: the event was created by `event::create` and is destroyed once.
                let _ = unsafe { cudarc::driver::result::event::destroy(slot.event) };
            }
        }
    }
}
