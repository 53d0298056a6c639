//! `keras.losses.CosineSimilarity`.

use super::numeric::minimum;
use super::row_wise::per_row;
use super::setters::loss_setters;
use super::{dense_device_form, DeviceLoss, Loss, LossFn, Reduction, EPSILON};
use crate::{target::Dense, Result};

/// Negative cosine similarity per row: `-sum(l2_normalize(y_true) * l2_normalize(y_pred))`.
///
/// Keras normalises with `x * min(1 / sqrt(sum(x^2)), 1 / 1e-7)`, so a zero vector gives 0
/// (and near-zero vectors are scaled by `1e7` rather than to unit length). Values are in
/// `[-1, 1]`; -1 means the rows point the same way.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, CosineSimilarity, LossScratch};
/// let loss = CosineSimilarity::default();
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[1.0, 1.0], &[2.0, 2.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value + 1.0).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CosineSimilarity {
    reduction: Reduction,
}

impl CosineSimilarity {
    loss_setters!(reduction);
}

/// Keras's L2 normalisation factor `min(rsqrt(sum(x^2)), 1 / eps)`, and whether the `1 / eps`
/// cap is active.
fn inv_norm(x: &[f32]) -> (f32, bool) {
    let square_sum: f32 = x.iter().map(|v| v * v).sum();
    let inv = 1.0 / square_sum.sqrt();
    let cap = 1.0 / EPSILON;
    (minimum(inv, cap), inv >= cap)
}

impl LossFn for CosineSimilarity {
    fn name(&self) -> &str {
        "cosine_similarity"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    /// [`DeviceLoss::CosineSimilarity`].
    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<DeviceLoss>> {
        dense_device_form(DeviceLoss::CosineSimilarity, y_true, rows, cols, labels)
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()> {
        per_row(y_true, y_pred, cols, values, grad, |t, p, g| {
            let (rp, capped) = inv_norm(p);
            let (rt, _) = inv_norm(t);
            let dot: f32 = t.iter().zip(p).map(|(&a, &b)| (a * rt) * (b * rp)).sum();
            if let Some(g) = g {
                for ((gi, &ti), &pi) in g.iter_mut().zip(t).zip(p) {
                    let t_hat = ti * rt;
                    *gi = if capped {
                        -t_hat * rp
                    } else {
                        -rp * (t_hat - dot * (pi * rp))
                    };
                }
            }
            -dot
        })
    }
}

impl<const K: usize> Loss<K> for CosineSimilarity {
    type Target = Dense<K>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zero_vector_gives_zero() {
        let mut v = [1.0];
        CosineSimilarity::default()
            .per_sample(&[0.0, 0.0], &[1.0, 2.0], 2, &mut v, None)
            .unwrap();
        assert_eq!(v[0], 0.0);
    }

    #[test]
    fn keras_docstring_example_matches() {
        let mut v = [0.0; 3];
        CosineSimilarity::default()
            .per_sample(
                &[0.0, 1.0, 1.0, 1.0, 1.0, 1.0],
                &[1.0, 0.0, 1.0, 1.0, -1.0, -1.0],
                2,
                &mut v,
                None,
            )
            .unwrap();
        assert_eq!(v[0], 0.0);
        assert!((v[1] + 1.0).abs() < 1e-6 && (v[2] - 1.0).abs() < 1e-6);
    }
}
