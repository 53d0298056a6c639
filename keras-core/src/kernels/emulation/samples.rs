//! What the emulated kernels' tests share: deterministic inputs and a closeness check.

/// A deterministic stream of values (a 64-bit LCG), so that every run tests the same inputs.
pub(crate) struct Samples(u64);

impl Samples {
    /// A stream seeded by `seed`.
    pub(crate) fn new(seed: u64) -> Self {
        Samples(
            seed.wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407),
        )
    }

    /// The next value in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }

    /// `n` values in `[lo, hi)`.
    pub(crate) fn between(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| lo + (hi - lo) * self.unit()).collect()
    }

    /// `n` integers in `0..k`, as floats.
    pub(crate) fn ids(&mut self, n: usize, k: usize) -> Vec<f32> {
        (0..n)
            .map(|_| ((self.unit() * k as f32) as usize).min(k - 1) as f32)
            .collect()
    }
}

/// Asserts that `got` is within `rel` of `want`, relative to `max(|want|, 1)`, element by
/// element (NaN only where NaN is expected).
#[track_caller]
pub(crate) fn assert_close(what: &str, got: &[f32], want: &[f32], rel: f32) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        let ok = if w.is_nan() {
            g.is_nan()
        } else {
            (g - w).abs() <= rel * w.abs().max(1.0)
        };
        assert!(
            ok,
            "{what}: element {i} is {g}, expected {w} (within {rel})"
        );
    }
}
