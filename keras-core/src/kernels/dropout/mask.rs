//! The mask of one inverted-dropout call: which elements it keeps, from a seed and each
//! element's index alone, so that every device (and every thread) draws the same mask.

/// The mask of one call of Keras's inverted dropout at `rate`: element `i` is kept when the
/// `i`-th output of a SplitMix64 stream seeded `seed`, as a 53-bit uniform in `[0, 1)`, is at
/// least `rate` (Keras's `uniform >= rate`). The CPU and CUDA kernels compute it alike
/// (`dropout.cu`'s `keras_dropout_keeps`), so a seeded mask is the same on both devices.
///
/// # Examples
/// ```
/// use keras_core::kernels::DropoutMask;
///
/// let half = DropoutMask::new(0.5, 7);
/// let kept = (0..10_000).filter(|&i| half.keeps(i)).count();
/// assert!((4_800..5_200).contains(&kept));
/// assert!((0..100).all(|i| DropoutMask::new(0.0, 7).keeps(i)));
/// assert!((0..100).all(|i| !DropoutMask::new(1.0, 7).keeps(i)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DropoutMask {
    /// The stream's seed.
    pub seed: u64,
    /// `ceil(rate · 2⁵³)`: an element is kept when its 53-bit draw is at least this.
    pub threshold: u64,
}

/// 2⁵³: the draws' range.
const UNIT: f64 = (1u64 << 53) as f64;

impl DropoutMask {
    /// The mask of a call at `rate` (clamped to `[0, 1]`) seeded `seed`.
    pub fn new(rate: f64, seed: u64) -> Self {
        let rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        DropoutMask {
            seed,
            threshold: (rate * UNIT).ceil() as u64,
        }
    }

    /// Whether element `index` is kept.
    #[inline]
    pub fn keeps(&self, index: u64) -> bool {
        (split_mix(self.seed, index) >> 11) >= self.threshold
    }
}

/// The `index`-th output of SplitMix64 seeded `seed`.
#[inline]
fn split_mix(seed: u64, index: u64) -> u64 {
    let mut z = seed.wrapping_add(index.wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stream_is_splitmix64() {
        // SplitMix64's published first outputs for seed 1234567.
        let first: Vec<u64> = (0..3).map(|i| split_mix(1_234_567, i)).collect();
        assert_eq!(
            first,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
    }

    #[test]
    fn each_rate_keeps_its_share_and_seeds_differ() {
        for rate in [0.1, 0.25, 0.5, 0.9] {
            let mask = DropoutMask::new(rate, 42);
            let kept = (0..100_000).filter(|&i| mask.keeps(i)).count() as f64 / 100_000.0;
            assert!(
                (kept - (1.0 - rate)).abs() < 0.01,
                "rate {rate}: kept {kept}"
            );
        }
        let a: Vec<bool> = (0..64).map(|i| DropoutMask::new(0.5, 1).keeps(i)).collect();
        let b: Vec<bool> = (0..64).map(|i| DropoutMask::new(0.5, 2).keeps(i)).collect();
        assert_ne!(a, b);
    }
}
