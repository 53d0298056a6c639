//! Lets the training thread work inside rayon's pool instead of handing each product to it.

use crate::{Error, Result};

/// Builds rayon's global thread pool with the calling thread as one of its workers (rayon's
/// `use_current_thread`), with rayon's default thread count (`RAYON_NUM_THREADS`, else one per
/// CPU) counting the calling thread.
///
/// The matrix products of the fused `Dense` op (and dfdx's) run on that pool. Called from a
/// thread outside it, each product is handed to the pool's threads while the caller sleeps until
/// they finish: two thread wake-ups per product, which dominate small products and grow with
/// load from other processes. Called from a thread inside it, the caller computes its share and
/// the other workers steal the rest. On a 2-core machine this made the forward and backward of
/// `784 → 256 → 128 → 10` on batches of 128 about 1.5× faster (`benches/dense_kernel.rs`).
///
/// Call it once, first thing in `main`, before anything uses rayon, and train from that thread;
/// the thread must outlive every use of the pool (the main thread does).
///
/// # Errors
/// [`Error::InvalidArgument`] when rayon's global pool already exists (something used rayon
/// first, or this was called twice); nothing changes then.
///
/// # Examples
/// ```
/// use keras_core::kernels::use_current_thread_in_pool;
///
/// match use_current_thread_in_pool() {
///     Ok(()) => println!("this thread now works for rayon's pool"),
///     Err(e) => println!("kept rayon's pool as it was: {e}"),
/// }
/// ```
pub fn use_current_thread_in_pool() -> Result<()> {
    rayon::ThreadPoolBuilder::new()
        .use_current_thread()
        .build_global()
        .map_err(|e| Error::invalid("rayon global pool", e.to_string()))
}

/// Runs `f` inside a fresh rayon pool of `threads` threads (tests of the parallel paths).
#[cfg(test)]
pub(crate) fn in_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a test thread pool")
        .install(f)
}
