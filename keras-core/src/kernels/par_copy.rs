//! Large host copies on rayon's threads: the trainer moves every weight and gradient once per
//! step, which on one thread leaves the other cores idle between the matrix products.

use rayon::prelude::*;

/// Slices shorter than this are copied on the calling thread.
const PARALLEL_MIN_LEN: usize = 1 << 16;

/// Elements per parallel block (64 KiB of `f32`).
const BLOCK: usize = 1 << 14;

/// `dst.copy_from_slice(src)`, in parallel blocks for long slices.
///
/// # Panics
/// When the lengths differ (as `copy_from_slice`).
pub(crate) fn par_copy(dst: &mut [f32], src: &[f32]) {
    assert_eq!(dst.len(), src.len(), "par_copy: lengths differ");
    if dst.len() < PARALLEL_MIN_LEN {
        dst.copy_from_slice(src);
    } else {
        dst.par_chunks_mut(BLOCK)
            .zip(src.par_chunks(BLOCK))
            .for_each(|(d, s)| d.copy_from_slice(s));
    }
}

/// Copies `src` into `dst` and zeroes `src`, block by block (in parallel for long slices), so
/// each block is read once and written while still in cache.
///
/// # Panics
/// When the lengths differ.
pub(crate) fn par_take(dst: &mut [f32], src: &mut [f32]) {
    assert_eq!(dst.len(), src.len(), "par_take: lengths differ");
    let take = |(d, s): (&mut [f32], &mut [f32])| {
        d.copy_from_slice(s);
        s.fill(0.0);
    };
    if dst.len() < PARALLEL_MIN_LEN {
        take((dst, src));
    } else {
        dst.par_chunks_mut(BLOCK)
            .zip(src.par_chunks_mut(BLOCK))
            .for_each(take);
    }
}

#[cfg(test)]
mod tests {
    use super::{par_copy, par_take, PARALLEL_MIN_LEN};

    #[test]
    fn par_copy_copies_short_and_long_slices_exactly() {
        for len in [0, 5, PARALLEL_MIN_LEN + 7] {
            let src: Vec<f32> = (0..len).map(|i| i as f32 * 0.5).collect();
            let mut dst = vec![-1.0; len];
            par_copy(&mut dst, &src);
            assert_eq!(dst, src);
        }
    }

    #[test]
    fn par_take_moves_the_values_and_leaves_zeros_behind() {
        for len in [3, PARALLEL_MIN_LEN * 2 + 1] {
            let orig: Vec<f32> = (0..len).map(|i| 1.0 + i as f32).collect();
            let mut src = orig.clone();
            let mut dst = vec![0.0; len];
            par_take(&mut dst, &mut src);
            assert_eq!(dst, orig);
            assert!(src.iter().all(|v| *v == 0.0));
        }
    }
}
