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

impl Target for Sparse {
    const WIDTH: usize = 1;
    const SPARSE: bool = true;
}

impl<const K: usize> Target for Dense<K> {
    const WIDTH: usize = K;
    const SPARSE: bool = false;
}
