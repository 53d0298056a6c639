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
pub(crate) use crate::kernels::metric::{argmax, mean, sigmoid};

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
