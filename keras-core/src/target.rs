//! What a label looks like per sample, at the type level.
//!
//! Keras resolves `"accuracy"` and `"crossentropy"` from runtime shapes; keras-rs resolves them from
//! these types, so a model output that does not fit the loss or the labels is a build error.

/// A per-sample label layout.
pub trait Target: Copy + Default + Send + Sync + 'static {
    /// Number of `f32` values stored per sample.
    const WIDTH: usize;
    /// `true` for integer class ids ([`Sparse`]).
    const SPARSE: bool;
}

/// One integer class id per sample (stored as `f32`), as Keras's sparse losses and metrics take.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sparse;

/// `K` values per sample (one-hot rows, probabilities, regression targets).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Dense<const K: usize>;

/// No labels: features only, for [`Trainer::predict`](crate::Trainer::predict) and
/// `predict_on_batch` (Keras's `model.predict(x)`). `fit` and `evaluate` refuse such data at
/// build time, since no loss takes it.
///
/// # Examples
/// ```
/// use keras_core::data::{ArrayDataset, Dataset};
/// use keras_core::dfdx::shapes::Rank1;
/// let x = ArrayDataset::<Rank1<2>, keras_core::target::NoLabels>::features(vec![1.0, 2.0, 3.0, 4.0])?;
/// assert_eq!(x.len(), 2);
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoLabels;

impl Target for NoLabels {
    const WIDTH: usize = 0;
    const SPARSE: bool = false;
}

impl Target for Sparse {
    const WIDTH: usize = 1;
    const SPARSE: bool = true;
}

impl<const K: usize> Target for Dense<K> {
    const WIDTH: usize = K;
    const SPARSE: bool = false;
}
