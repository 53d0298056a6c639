//! `fit(shuffle=...)`: Keras's three shuffling modes, seeded.

use rand::{rngs::StdRng, seq::SliceRandom, SeedableRng};

/// How an [`ArrayAdapter`](super::ArrayAdapter) orders samples in each pass.
///
/// Defaults to [`Shuffle::Full`], as Keras's `shuffle=True`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Shuffle {
    /// In order (`shuffle=False`).
    None,
    /// A new full permutation each pass (`shuffle=True`).
    #[default]
    Full,
    /// Each batch-sized chunk is permuted in place (`shuffle="batch"`).
    Batch,
}

/// The sample order of pass `pass` for `n` samples. The order depends only on `(seed, pass)`, so
/// a run is reproducible and can resume mid-training without saving RNG state.
pub(crate) fn order(
    mode: Shuffle,
    n: usize,
    batch_size: usize,
    seed: u64,
    pass: u64,
    out: &mut Vec<usize>,
) {
    out.clear();
    out.extend(0..n);
    let mut rng = StdRng::seed_from_u64(seed ^ pass.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    match mode {
        Shuffle::None => {}
        Shuffle::Full => out.shuffle(&mut rng),
        Shuffle::Batch => {
            for chunk in out.chunks_mut(batch_size.max(1)) {
                chunk.shuffle(&mut rng);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_shuffle_keeps_the_order() {
        let mut o = Vec::new();
        order(Shuffle::None, 5, 2, 1, 0, &mut o);
        assert_eq!(o, [0, 1, 2, 3, 4]);
    }

    #[test]
    fn full_shuffle_is_a_seeded_permutation_that_changes_each_pass() {
        let (mut a, mut b, mut c) = (Vec::new(), Vec::new(), Vec::new());
        order(Shuffle::Full, 50, 8, 7, 0, &mut a);
        order(Shuffle::Full, 50, 8, 7, 0, &mut b);
        order(Shuffle::Full, 50, 8, 7, 1, &mut c);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut sorted = a.clone();
        sorted.sort();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn batch_shuffle_permutes_only_within_each_chunk() {
        let mut o = Vec::new();
        order(Shuffle::Batch, 10, 4, 3, 0, &mut o);
        for (i, chunk) in o.chunks(4).enumerate() {
            let mut c = chunk.to_vec();
            c.sort();
            let lo = i * 4;
            assert_eq!(c, (lo..(lo + chunk.len())).collect::<Vec<_>>());
        }
    }
}
