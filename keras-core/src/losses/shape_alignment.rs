//! Keras's shape alignment of a per-sample loss with its weights: rank alignment
//! (`losses/loss.py::squeeze_or_expand_to_same_rank`) followed by NumPy broadcasting.

/// Keras's `squeeze_or_expand_to_same_rank(x1, x2)` on shapes (the data is unchanged): when
/// the ranks differ by one and the longer shape ends in 1, that axis is squeezed, or the
/// shorter shape gets a trailing 1 when it has rank 1.
pub(crate) fn squeeze_or_expand(x1: &mut Vec<usize>, x2: &mut Vec<usize>) {
    let (r1, r2) = (x1.len(), x2.len());
    if r1 == r2 + 1 && x1.last() == Some(&1) {
        if r2 == 1 {
            x2.push(1);
        } else {
            x1.pop();
        }
    } else if r2 == r1 + 1 && x2.last() == Some(&1) {
        if r1 == 1 {
            x1.push(1);
        } else {
            x2.pop();
        }
    }
}

/// NumPy broadcasting of shapes `a` and `b`. Writes the result shape into `shape` and, for every
/// element of the result (row-major), the flat indices into `a` and `b` into `pairs`. Returns
/// `false` when the shapes do not broadcast.
pub(crate) fn broadcast(
    a: &[usize],
    b: &[usize],
    shape: &mut Vec<usize>,
    pairs: &mut Vec<(usize, usize)>,
) -> bool {
    let rank = a.len().max(b.len());
    let dim = |s: &[usize], i: usize| -> usize {
        // Axis `i` of the rank-`rank` result, aligned on the right.
        let pad = rank - s.len();
        if i < pad {
            1
        } else {
            s[i - pad]
        }
    };
    shape.clear();
    for i in 0..rank {
        let (da, db) = (dim(a, i), dim(b, i));
        if da != db && da != 1 && db != 1 {
            return false;
        }
        shape.push(if da == 1 { db } else { da });
    }
    let n: usize = shape.iter().product();
    pairs.clear();
    pairs.reserve(n);
    let mut idx = vec![0usize; rank];
    for _ in 0..n {
        let (mut ia, mut ib) = (0usize, 0usize);
        for (i, &k) in idx.iter().enumerate() {
            let (da, db) = (dim(a, i), dim(b, i));
            ia = ia * da + if da == 1 { 0 } else { k };
            ib = ib * db + if db == 1 { 0 } else { k };
        }
        pairs.push((ia, ib));
        for d in (0..rank).rev() {
            idx[d] += 1;
            if idx[d] < shape[d] {
                break;
            }
            idx[d] = 0;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn aligned(a: &[usize], b: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let (mut a, mut b) = (a.to_vec(), b.to_vec());
        squeeze_or_expand(&mut a, &mut b);
        (a, b)
    }

    #[test]
    fn a_rank_one_loss_is_expanded_against_a_column_of_weights() {
        assert_eq!(aligned(&[6], &[6, 1]), (vec![6, 1], vec![6, 1]));
    }

    #[test]
    fn a_trailing_one_of_the_weights_is_squeezed_against_a_rank_two_loss() {
        assert_eq!(aligned(&[6, 2], &[6, 2, 1]), (vec![6, 2], vec![6, 2]));
    }

    #[test]
    fn a_scalar_loss_squeezes_a_single_weight() {
        assert_eq!(aligned(&[], &[1]), (vec![], vec![]));
        assert_eq!(aligned(&[], &[3]), (vec![], vec![3]));
    }

    #[test]
    fn a_column_broadcasts_over_time_steps() {
        let (mut shape, mut pairs) = (Vec::new(), Vec::new());
        assert!(broadcast(&[2, 3], &[2, 1], &mut shape, &mut pairs));
        assert_eq!(shape, vec![2, 3]);
        assert_eq!(pairs, vec![(0, 0), (1, 0), (2, 0), (3, 1), (4, 1), (5, 1)]);
    }

    #[test]
    fn a_scalar_broadcasts_to_the_weights_shape() {
        let (mut shape, mut pairs) = (Vec::new(), Vec::new());
        assert!(broadcast(&[], &[3], &mut shape, &mut pairs));
        assert_eq!(shape, vec![3]);
        assert_eq!(pairs, vec![(0, 0), (0, 1), (0, 2)]);
    }

    #[test]
    fn mismatched_axes_do_not_broadcast() {
        let (mut shape, mut pairs) = (Vec::new(), Vec::new());
        assert!(!broadcast(&[6, 2], &[6], &mut shape, &mut pairs));
    }
}
