//! The `"crossentropy"` string of `compile`, resolved at the type level.

use std::marker::PhantomData;

use super::{
    BinaryCrossentropy, CategoricalCrossentropy, Loss, LossFn, Reduction,
    SparseCategoricalCrossentropy,
};
use crate::{target::Target, Result};

/// What Keras's `loss="crossentropy"` becomes, chosen from the label layout `T` and the output
/// width (Keras's `compile_utils.get_loss` does it from runtime shapes): sparse labels give
/// [`SparseCategoricalCrossentropy`], a single output column gives [`BinaryCrossentropy`], wider
/// outputs give [`CategoricalCrossentropy`]. Dense labels must be as wide as the output, which
/// the trainer checks at build time.
///
/// # Examples
/// ```
/// use keras_core::losses::{compute_loss, LossScratch, ResolvedCrossentropy};
/// use keras_core::target::Sparse;
/// let loss = ResolvedCrossentropy::<Sparse>::default().with_from_logits(true);
/// let mut scratch = LossScratch::default();
/// let out = compute_loss(&loss, &[1.0], &[0.0, 0.0], &[1, 2], None, false, &mut scratch).unwrap();
/// assert!((out.value - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct ResolvedCrossentropy<T: Target> {
    sparse: SparseCategoricalCrossentropy,
    binary: BinaryCrossentropy,
    categorical: CategoricalCrossentropy,
    _target: PhantomData<T>,
}

impl<T: Target> Default for ResolvedCrossentropy<T> {
    fn default() -> Self {
        Self {
            sparse: SparseCategoricalCrossentropy::default(),
            binary: BinaryCrossentropy::default(),
            categorical: CategoricalCrossentropy::default(),
            _target: PhantomData,
        }
    }
}

impl<T: Target> ResolvedCrossentropy<T> {
    /// Whether the model outputs logits. Defaults to `false`.
    pub fn with_from_logits(mut self, from_logits: bool) -> Self {
        self.sparse = self.sparse.with_from_logits(from_logits);
        self.binary = self.binary.with_from_logits(from_logits);
        self.categorical = self.categorical.with_from_logits(from_logits);
        self
    }

    /// The reduction. Defaults to `sum_over_batch_size`.
    pub fn with_reduction(mut self, reduction: Reduction) -> Self {
        self.sparse = self.sparse.with_reduction(reduction);
        self.binary = self.binary.with_reduction(reduction);
        self.categorical = self.categorical.with_reduction(reduction);
        self
    }
}

impl<T: Target> LossFn for ResolvedCrossentropy<T> {
    fn name(&self) -> &str {
        if T::SPARSE {
            self.sparse.name()
        } else if T::WIDTH == 1 {
            self.binary.name()
        } else {
            self.categorical.name()
        }
    }

    fn reduction(&self) -> Reduction {
        self.sparse.reduction()
    }

    fn per_sample(
        &self,
        y_true: &[f32],
        y_pred: &[f32],
        cols: usize,
        values: &mut [f32],
        grad: Option<&mut [f32]>,
    ) -> Result<()> {
        if T::SPARSE {
            self.sparse.per_sample(y_true, y_pred, cols, values, grad)
        } else if cols == 1 {
            self.binary.per_sample(y_true, y_pred, cols, values, grad)
        } else {
            self.categorical
                .per_sample(y_true, y_pred, cols, values, grad)
        }
    }

    fn device_form(
        &self,
        y_true: &[f32],
        rows: usize,
        cols: usize,
        labels: &mut Vec<f32>,
    ) -> Result<Option<super::DeviceLoss>> {
        if T::SPARSE {
            self.sparse.device_form(y_true, rows, cols, labels)
        } else if cols == 1 {
            self.binary.device_form(y_true, rows, cols, labels)
        } else {
            self.categorical.device_form(y_true, rows, cols, labels)
        }
    }

    fn mask(&self, y_true: &[f32], mask: &mut [f32]) -> bool {
        T::SPARSE && self.sparse.mask(y_true, mask)
    }
}

impl<const K: usize, T: Target> Loss<K> for ResolvedCrossentropy<T> {
    type Target = T;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::losses::{compute_loss, LossScratch};
    use crate::target::{Dense, Sparse};

    fn value<L: LossFn>(l: &L, y_true: &[f32], y_pred: &[f32], shape: &[usize]) -> f32 {
        let mut s = LossScratch::default();
        compute_loss(l, y_true, y_pred, shape, None, false, &mut s)
            .unwrap()
            .value
    }

    #[test]
    fn sparse_labels_resolve_to_sparse_categorical_crossentropy() {
        let (t, p) = ([2.0, 0.0], [0.1, 0.2, 0.7, 0.6, 0.3, 0.1]);
        let got = value(&ResolvedCrossentropy::<Sparse>::default(), &t, &p, &[2, 3]);
        let want = value(&SparseCategoricalCrossentropy::default(), &t, &p, &[2, 3]);
        assert_eq!(got, want);
    }

    #[test]
    fn one_dense_column_resolves_to_binary_crossentropy() {
        let (t, p) = ([1.0, 0.0], [0.8, 0.3]);
        let got = value(
            &ResolvedCrossentropy::<Dense<1>>::default(),
            &t,
            &p,
            &[2, 1],
        );
        let want = value(&BinaryCrossentropy::default(), &t, &p, &[2, 1]);
        assert_eq!(got, want);
    }

    #[test]
    fn wider_dense_labels_resolve_to_categorical_crossentropy() {
        let (t, p) = ([0.0, 1.0, 1.0, 0.0], [0.4, 0.6, 0.9, 0.1]);
        let got = value(
            &ResolvedCrossentropy::<Dense<2>>::default(),
            &t,
            &p,
            &[2, 2],
        );
        let want = value(&CategoricalCrossentropy::default(), &t, &p, &[2, 2]);
        assert_eq!(got, want);
        assert_eq!(
            ResolvedCrossentropy::<Dense<2>>::default().name(),
            "categorical_crossentropy"
        );
    }
}
