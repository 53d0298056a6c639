//! The launches of `embedding.cu`'s kernels, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike.

use crate::kernels::Launch;

/// Every kernel of `embedding.cu`: the lookup, then its gradient.
pub(crate) const NAMES: [&str; 2] = ["keras_embedding_lookup", "keras_embedding_grad"];

/// Threads per block.
const THREADS: u32 = 256;

/// The parameters of either kernel: ids, vocabulary, row width, the ids' address, the table's
/// (forward) or the output's gradient's (backward), and the output's (forward: written) or the
/// table's gradient's (backward: added to).
pub(crate) type EmbeddingParams = (usize, usize, usize, u64, u64, u64);

/// The launch over the `n · m` output values of `n` ids (at `ids`) into rows of width `m` of a
/// `vocab`-row table: forward `from` is the table and `to` the output; backward `from` is the
/// output's gradient and `to` the table's.
pub(crate) fn plan(
    n: usize,
    vocab: usize,
    m: usize,
    ids: u64,
    from: u64,
    to: u64,
) -> (Launch, EmbeddingParams) {
    (
        Launch::grid_stride(n * m, THREADS),
        (n, vocab, m, ids, from, to),
    )
}
