//! Test values for the CPU kernels' tests: reproducible, spread over a range, no generator
//! state.

/// `len` values in `[lo, hi)` from a hash of each index and `seed` (the top 24 bits of a
/// Fibonacci hash, so every value is a multiple of `(hi - lo) / 2^24` from `lo`).
pub(crate) fn hashed_values(len: usize, seed: u64, lo: f32, hi: f32) -> Vec<f32> {
    (0..len as u64)
        .map(|i| {
            let h = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
            ((h >> 40) as f32) / (1u64 << 24) as f32 * (hi - lo) + lo
        })
        .collect()
}
