//! The fused layer normalization on `Cuda`, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike: the launches of `layer_norm.cu`'s kernels, in the order they run, from the
//! buffers' addresses.

use crate::kernels::Launch;

/// `layer_norm.cu`'s forward.
pub(crate) const FORWARD: &str = "keras_layer_norm";
/// `layer_norm.cu`'s input gradient.
pub(crate) const INPUT_GRAD: &str = "keras_layer_norm_input_grad";
/// `layer_norm.cu`'s `gamma` and `beta` gradients (or their row blocks' sums).
pub(crate) const PARAM_GRAD: &str = "keras_layer_norm_param_grad";
/// `layer_norm.cu`'s sum of the row blocks' parameter gradients.
pub(crate) const SUM_CHUNKS: &str = "keras_layer_norm_sum_chunks";
/// Every kernel of `layer_norm.cu`.
pub(crate) const NAMES: [&str; 4] = [FORWARD, INPUT_GRAD, PARAM_GRAD, SUM_CHUNKS];

/// Threads per block of the row kernels, at most (`KERAS_LN_MAX_THREADS`).
const MAX_ROW_THREADS: usize = 256;
/// Threads per block of the row kernels, at least (one warp).
const MIN_ROW_THREADS: usize = 32;
/// Blocks of the row kernels, at most (they loop over the other rows).
const MAX_ROW_GRID: usize = 65_535;
/// Columns per block of [`PARAM_GRAD`] (`column_lanes.cuh`'s `KERAS_LANE_COLS`).
const COLS_PER_BLOCK: usize = 32;
/// Threads per block of [`PARAM_GRAD`]: `KERAS_LANE_COLS × KERAS_LANE_ROWS`.
const PARAM_THREADS: u32 = 256;
/// Rows a block of [`PARAM_GRAD`] takes, at least: up to this many rows are one row block.
const ROWS_PER_BLOCK: usize = 256;
/// At most this many row blocks, so the scratch stays small.
const MAX_ROW_BLOCKS: usize = 1024;
/// Threads per block of [`SUM_CHUNKS`].
const THREADS: u32 = 256;

/// The sizes of one layer normalization: `rows` rows of `m` features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NormDims {
    /// Rows of the batch.
    pub rows: usize,
    /// Features per row.
    pub m: usize,
}

impl NormDims {
    /// The sizes, when the fused op takes them: neither is 0 and the batch's length fits a
    /// `usize`. Other batches go to dfdx's ops.
    pub(crate) fn new(rows: usize, m: usize) -> Option<Self> {
        (rows > 0 && m > 0 && rows.checked_mul(m).is_some()).then_some(NormDims { rows, m })
    }

    /// Threads per block of the row kernels: `m` rounded up to a power of two, within
    /// 32..=256 (the kernels' trees need a power of two).
    fn row_threads(&self) -> u32 {
        let threads = self
            .m
            .next_power_of_two()
            .clamp(MIN_ROW_THREADS, MAX_ROW_THREADS);
        u32::try_from(threads).unwrap_or(256)
    }

    /// The launch of a row kernel: one block per row, up to [`MAX_ROW_GRID`].
    fn row_launch(&self) -> Launch {
        Launch {
            grid: u32::try_from(self.rows.min(MAX_ROW_GRID)).unwrap_or(65_535),
            grid_y: 1,
            block: self.row_threads(),
            shared_bytes: 0,
        }
    }

    /// Row blocks of the parameter gradients.
    pub(crate) fn row_blocks(&self) -> usize {
        self.rows.div_ceil(ROWS_PER_BLOCK).min(MAX_ROW_BLOCKS)
    }

    /// Floats of scratch the backward needs for the row blocks' sums (0 for one row block):
    /// `gamma`'s, then `beta`'s.
    pub(crate) fn scratch_len(&self) -> usize {
        match self.row_blocks() {
            1 => 0,
            blocks => 2 * blocks * self.m,
        }
    }

    /// Floats of the rows' statistics.
    pub(crate) fn stats_len(&self) -> usize {
        2 * self.rows
    }
}

/// [`FORWARD`]'s parameters: rows, features, epsilon, the input's, `gamma`'s, `beta`'s, the
/// output's and the statistics' addresses.
pub(crate) type ForwardParams = (usize, usize, f32, u64, u64, u64, u64, u64);

/// [`INPUT_GRAD`]'s parameters: rows, features, the input's, `gamma`'s, the statistics', the
/// output gradient's and the input gradient's addresses.
pub(crate) type InputGradParams = (usize, usize, u64, u64, u64, u64, u64);

/// [`PARAM_GRAD`]'s parameters: rows, features, rows per row block, the input's, the
/// statistics', the output gradient's, then where `gamma`'s and `beta`'s sums go, and whether
/// to add to them (1: the gradients) or write them (0: the scratch).
pub(crate) type ParamGradParams = (usize, usize, usize, u64, u64, u64, u64, u64, u32);

/// [`SUM_CHUNKS`]'s parameters: row blocks, features, the scratch's two halves, and the
/// gradients of `gamma` and `beta`.
pub(crate) type SumChunksParams = (usize, usize, u64, u64, u64, u64);

/// The forward of `(x - mean) · rstd · gamma + beta` on row-major buffers at the given
/// addresses, `y` holding [`NormDims::len`] floats and `stats` [`NormDims::stats_len`].
pub(crate) fn forward(
    d: NormDims,
    epsilon: f32,
    x: u64,
    gamma: u64,
    beta: u64,
    y: u64,
    stats: u64,
) -> (Launch, ForwardParams) {
    (
        d.row_launch(),
        (d.rows, d.m, epsilon, x, gamma, beta, y, stats),
    )
}

/// The buffers of a backward, by address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackwardBuffers {
    /// The input.
    pub x: u64,
    /// `gamma`.
    pub gamma: u64,
    /// The rows' statistics the forward wrote.
    pub stats: u64,
    /// The output's gradient.
    pub grad_out: u64,
    /// [`NormDims::scratch_len`] floats (used with several row blocks only).
    pub scratch: u64,
    /// `gamma`'s gradient, added to.
    pub grad_gamma: u64,
    /// `beta`'s gradient, added to.
    pub grad_beta: u64,
    /// The input's gradient, added to; `None` for the data batch (not computed).
    pub grad_input: Option<u64>,
}

/// The backward, in order: the input's gradient, the parameters' (or their row blocks'), the
/// row blocks' sum.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backward {
    /// `dx += ...`, unless the input is the data batch.
    pub input: Option<(Launch, InputGradParams)>,
    /// `dgamma += sum(g · xhat)`, `dbeta += sum(g)` (or the row blocks' sums).
    pub params: (Launch, ParamGradParams),
    /// The row blocks' sums into the gradients, with several row blocks.
    pub sum_chunks: Option<(Launch, SumChunksParams)>,
}

/// The backward of the op [`forward`] planned, accumulating into the gradients as dfdx's ops
/// do.
pub(crate) fn backward(d: NormDims, b: BackwardBuffers) -> Backward {
    let input = b.grad_input.map(|dx| {
        (
            d.row_launch(),
            (d.rows, d.m, b.x, b.gamma, b.stats, b.grad_out, dx),
        )
    });
    let blocks = d.row_blocks();
    let half = (blocks * d.m * std::mem::size_of::<f32>()) as u64;
    let (out_gamma, out_beta, accumulate) = match blocks {
        1 => (b.grad_gamma, b.grad_beta, 1),
        _ => (b.scratch, b.scratch + half, 0),
    };
    let params = (
        Launch {
            grid: u32::try_from(d.m.div_ceil(COLS_PER_BLOCK)).unwrap_or(u32::MAX),
            grid_y: u32::try_from(blocks).unwrap_or(u32::MAX),
            block: PARAM_THREADS,
            shared_bytes: 0,
        },
        (
            d.rows,
            d.m,
            d.rows.div_ceil(blocks),
            b.x,
            b.stats,
            b.grad_out,
            out_gamma,
            out_beta,
            accumulate,
        ),
    );
    let sum_chunks = (blocks > 1).then(|| {
        (
            Launch::grid_stride(d.m, THREADS),
            (
                blocks,
                d.m,
                b.scratch,
                b.scratch + half,
                b.grad_gamma,
                b.grad_beta,
            ),
        )
    });
    Backward {
        input,
        params,
        sum_chunks,
    }
}
