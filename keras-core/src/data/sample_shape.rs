//! The compile-time shape of one sample, and its batched form.

use dfdx::shapes::{Const, Rank1, Rank2, Rank3, Shape};

/// The shape of one input sample (`Rank1<F>` for features, `Rank3<C, H, W>` for images). The
/// batch dimension is added at run time: `Rank1<F>` batches to `(usize, Const<F>)`.
pub trait SampleShape: Shape + 'static + Send + Sync {
    /// Values per sample.
    const NUMEL: usize;
    /// The shape of a batch of `n` samples.
    type Batched: Shape;
    /// The batched shape for `n` samples.
    fn batched(n: usize) -> Self::Batched;
}

impl<const A: usize> SampleShape for Rank1<A> {
    const NUMEL: usize = A;
    type Batched = (usize, Const<A>);
    fn batched(n: usize) -> Self::Batched {
        (n, Const)
    }
}

impl<const A: usize, const B: usize> SampleShape for Rank2<A, B> {
    const NUMEL: usize = A * B;
    type Batched = (usize, Const<A>, Const<B>);
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Const)
    }
}

impl<const A: usize, const B: usize, const C: usize> SampleShape for Rank3<A, B, C> {
    const NUMEL: usize = A * B * C;
    type Batched = (usize, Const<A>, Const<B>, Const<C>);
    fn batched(n: usize) -> Self::Batched {
        (n, Const, Const, Const)
    }
}
