//! `keras.losses.CategoricalGeneralizedCrossEntropy`.

use super::setters::loss_setters;
use super::sparse_categorical_crossentropy::class_id;
use super::validate::open_unit_interval;
use super::{check_rows, check_sparse, Loss, LossFn, Reduction};
use crate::{target::Sparse, Result};

/// Generalized cross entropy (Zhang & Sabuncu, 2018), robust to noisy labels:
/// `(1 - p^q) / q` with `p` the predicted probability of the true class.
///
/// As in Keras, labels are **integer class ids** (one per row, [`Sparse`]) and `y_pred` holds
/// probabilities, used as given (no renormalisation, no clipping: a probability of 0 has an
/// infinite gradient). `q` in `(0, 1)` moves the loss from crossentropy (`q -> 0`) towards
/// mean absolute error (`q -> 1`). A label outside `0..K` is an
/// [`Error::ClassOutOfRange`](crate::Error); Keras would read it as probability 0.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, CategoricalGeneralizedCrossEntropy, LossScratch};
/// // Keras: CategoricalGeneralizedCrossEntropy(q=0.7) on these inputs gives 0.34529287.
/// let gce = CategoricalGeneralizedCrossEntropy::new(0.7).unwrap();
/// let mut scratch = LossScratch::default();
/// let y_true = [0.0, 1.0, 0.0, 1.0];
/// let y_pred = [0.7, 0.3, 0.2, 0.8, 0.6, 0.4, 0.4, 0.6];
/// let out = compute_loss(&gce, &y_true, &y_pred, &[4, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value - 0.34529287).abs() < 1e-6);
/// assert!(CategoricalGeneralizedCrossEntropy::new(1.0).is_err());
/// ```
#[derive(Debug, Clone, Copy)]
pub struct CategoricalGeneralizedCrossEntropy {
    q: f32,
    reduction: Reduction,
}

impl Default for CategoricalGeneralizedCrossEntropy {
    fn default() -> Self {
        Self {
            q: 0.5,
            reduction: Reduction::default(),
        }
    }
}

impl CategoricalGeneralizedCrossEntropy {
    /// A generalized cross entropy with noise parameter `q`, which must lie in `(0, 1)` (else
    /// [`Error::InvalidArgument`](crate::Error), as Keras raises). Keras's default is `0.5`
    /// ([`CategoricalGeneralizedCrossEntropy::default`]).
    pub fn new(q: f32) -> Result<Self> {
        Ok(Self {
            q: open_unit_interval("q", q)?,
            ..Self::default()
        })
    }

    loss_setters!(reduction);
}

impl LossFn for CategoricalGeneralizedCrossEntropy {
    fn name(&self) -> &str {
        "categorical_generalized_cross_entropy"
    }

    fn reduction(&self) -> Reduction {
        self.reduction
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        mut grad: Option<&mut [f32]>,
    ) -> Result<()> {
        check_rows(y_pred, cols, values, grad.as_deref())?;
        check_sparse(y_true, values.len())?;
        let q = self.q;
        for (r, v) in values.iter_mut().enumerate() {
            let row = &y_pred[r * cols..(r + 1) * cols];
            let t = class_id(y_true[r], r, cols)?;
            // Keras: p = sum(y_pred * one_hot(y_true)), so a NaN anywhere in the row propagates.
            let p: f32 = row
                .iter()
                .enumerate()
                .map(|(c, &y)| y * if c == t { 1.0 } else { 0.0 })
                .sum();
            *v = (1.0 - p.powf(q)) / q;
            if let Some(g) = grad.as_deref_mut() {
                for (c, gc) in g[r * cols..(r + 1) * cols].iter_mut().enumerate() {
                    *gc = if c == t { -p.powf(q - 1.0) } else { 0.0 };
                }
            }
        }
        Ok(())
    }
}

impl<const K: usize> Loss<K> for CategoricalGeneralizedCrossEntropy {
    type Target = Sparse;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn keras_unit_test_values_match() {
        let gce = CategoricalGeneralizedCrossEntropy::default();
        let mut v = [0.0; 4];
        gce.per_sample(
            &[0.0, 1.0, 0.0, 1.0],
            &[0.7, 0.3, 0.0, 0.2, 0.2, 0.6, 0.6, 0.4, 0.0, 0.2, 0.2, 0.6],
            3,
            &mut v,
            None,
        )
        .unwrap();
        for (got, p) in v.iter().zip([0.7f32, 0.2, 0.6, 0.2]) {
            assert!((got - (1.0 - p.sqrt()) / 0.5).abs() < 1e-6);
        }
    }

    #[test]
    fn q_outside_the_open_unit_interval_is_rejected() {
        assert!(matches!(
            CategoricalGeneralizedCrossEntropy::new(0.0),
            Err(Error::InvalidArgument { name: "q", .. })
        ));
        assert!(CategoricalGeneralizedCrossEntropy::new(f32::NAN).is_err());
    }

    #[test]
    fn it_takes_one_class_id_per_sample_as_keras_does() {
        let target: Sparse = <CategoricalGeneralizedCrossEntropy as Loss<4>>::Target::default();
        assert_eq!(target, Sparse);
    }
}
