//! The device's embedding lookup on float-coded ids, as a kernel trait (dfdx's pattern):
//! [`EmbeddingKernel`], and its generic entry point [`try_embedding_lookup`].

use dfdx::shapes::{Rank2, Shape};
use dfdx::tensor::{Tape, Tensor};
use dfdx::tensor_ops::Device;

use super::first_bad_id;

/// A device's lookup of the rows of an `[V, M]` table at float-coded ids, on a tape: row `p` of
/// the output (`M` values, positions in the ids' row-major order) is the table's row at the
/// `p`-th id, and the backward adds row `p` of the output's gradient to that row of the
/// table's. An id that names no row ([`row_of`](super::row_of)) reads and trains row 0; check
/// the ids first ([`first_bad_id`]) to refuse them.
///
/// Implemented for `Cpu` (rows copied on rayon's threads, the gradient added in position order)
/// and `Cuda` (`embedding.cu`, one kernel each way on the ids where they lie: dfdx's gather
/// takes `usize` ids, which float-coded ids would have to reach through the host).
/// [`KerasDevice`](crate::device::KerasDevice) requires it.
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::embedding::EmbeddingKernel;
///
/// let dev = Cpu::default();
/// let table: Tensor<Rank2<3, 2>, f32, _> = dev.tensor([[0.0, 0.5], [1.0, 1.5], [2.0, 2.5]]);
/// let ids: Tensor<Rank1<3>, f32, _> = dev.tensor([2.0, 0.0, 2.0]);
/// let rows = Cpu::try_embedding_lookup(table.leaky_trace(), &ids, (3, Const::<2>))?;
/// assert_eq!(rows.retaped::<NoneTape>().as_vec(), [2.0, 2.5, 0.0, 0.5, 2.0, 2.5]);
/// let grads = rows.sum().backward();
/// assert_eq!(grads.get(&table).array(), [[1.0, 1.0], [0.0, 0.0], [2.0, 2.0]]);
/// # Ok::<(), CpuError>(())
/// ```
pub trait EmbeddingKernel: Device<f32> {
    /// The rows of `table` at `ids`, shaped `out` (which must have `M` elements per id, else
    /// the device's wrong-size error); the result carries `table`'s tape with the op's backward
    /// registered on it.
    fn try_embedding_lookup<const V: usize, const M: usize, S: Shape, O: Shape, T>(
        table: Tensor<Rank2<V, M>, f32, Self, T>,
        ids: &Tensor<S, f32, Self>,
        out: O,
    ) -> Result<Tensor<O, f32, Self, T>, Self::Err>
    where
        T: Tape<f32, Self>;

    /// The first id of `ids` (row-major order) that names no row of `vocab`, with its position
    /// ([`first_bad_id`]). Reads the ids where they are on `Cpu`; elsewhere it copies them to the
    /// host, so a caller that has them on the host checks them there.
    fn try_first_bad_id<S: Shape>(
        ids: &Tensor<S, f32, Self>,
        vocab: usize,
    ) -> Result<Option<(usize, f32)>, Self::Err> {
        Ok(first_bad_id(&ids.as_vec(), vocab))
    }
}

/// The rows of `table` at float-coded `ids` on any device with an [`EmbeddingKernel`] (see
/// there).
///
/// # Examples
/// ```
/// use keras_core::dfdx::prelude::*;
/// use keras_core::kernels::embedding::try_embedding_lookup;
///
/// let dev = Cpu::default();
/// let table: Tensor<Rank2<2, 1>, f32, _> = dev.tensor([[5.0], [6.0]]);
/// let ids: Tensor<Rank2<2, 2>, f32, _> = dev.tensor([[1.0, 1.0], [0.0, 9.0]]);
/// let rows = try_embedding_lookup(table, &ids, (Const::<2>, Const::<2>, Const::<1>))?;
/// // 9 names no row of 2: it reads row 0.
/// assert_eq!(rows.array(), [[[6.0], [6.0]], [[5.0], [5.0]]]);
/// # Ok::<(), CpuError>(())
/// ```
#[inline]
pub fn try_embedding_lookup<const V: usize, const M: usize, S, O, D, T>(
    table: Tensor<Rank2<V, M>, f32, D, T>,
    ids: &Tensor<S, f32, D>,
    out: O,
) -> Result<Tensor<O, f32, D, T>, D::Err>
where
    S: Shape,
    O: Shape,
    D: EmbeddingKernel,
    T: Tape<f32, D>,
{
    D::try_embedding_lookup(table, ids, out)
}
