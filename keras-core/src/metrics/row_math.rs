//! Per-row arithmetic shared by metrics, in `f32` exactly as Keras's JAX backend computes it.

/// Keras's `backend.epsilon()`.
pub(crate) const EPSILON: f32 = 1e-7;

/// `a / b`, 0 when `b == 0` (Keras's `divide_no_nan`).
pub(crate) fn div_no_nan(a: f32, b: f32) -> f32 {
    if b == 0.0 {
        0.0
    } else {
        a / b
    }
}

/// The row arithmetic the device kernels share with the metrics (defined once, beside the
/// kernels).
pub(crate) use crate::kernels::metric::{argmax, mean};

/// `jax.nn.sigmoid(x) = 1 / (1 + exp(-x))`.
pub(crate) fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Marks the `k` largest entries of a row in `mask` (ties go to the lower index, as
/// `jax.lax.top_k`).
pub(crate) fn top_k_mask(row: &[f32], k: usize, mask: &mut Vec<bool>) {
    let mut order: Vec<usize> = (0..row.len()).collect();
    order.sort_by(|&a, &b| row[b].total_cmp(&row[a]).then(a.cmp(&b)));
    mask.clear();
    mask.resize(row.len(), false);
    for &i in order.iter().take(k) {
        mask[i] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_softmax_exponentiates_to_a_distribution() {
        let row = [1.0, 2.0, 3.0];
        let total: f32 = (0..3)
            .map(|i| crate::kernels::metric::log_softmax_at(&row, i).exp())
            .sum();
        assert!((total - 1.0).abs() < 1e-6);
    }

    #[test]
    fn top_k_ties_go_to_the_lower_index() {
        let mut mask = Vec::new();
        top_k_mask(&[0.5, 0.9, 0.5, 0.5], 2, &mut mask);
        assert_eq!(mask, [true, true, false, false]);
        use crate::kernels::metric::in_top_k;
        assert!(in_top_k(&[0.5, 0.9, 0.5], 2, 2));
        assert!(!in_top_k(&[0.5, 0.9, 0.4], 2, 2));
    }

    #[test]
    fn softplus_is_stable_for_large_inputs() {
        use crate::kernels::metric::softplus;
        assert_eq!(softplus(100.0), 100.0);
        assert!(softplus(-100.0) < 1e-30);
        assert!((crate::kernels::metric::log_sigmoid(0.0) + std::f32::consts::LN_2).abs() < 1e-7);
    }

    #[test]
    fn divide_no_nan_returns_zero_for_a_zero_divisor() {
        assert_eq!(div_no_nan(1.0, 0.0), 0.0);
    }
}
