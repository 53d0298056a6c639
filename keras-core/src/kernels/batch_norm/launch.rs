//! The fused batch normalization on `Cuda`, planned for `cuda_kernel.rs` and for the CPU
//! emulation alike: the launches of `batch_norm.cu`'s kernels, in the order they run, from the
//! buffers' addresses.

use crate::kernels::Launch;

/// `batch_norm.cu`'s per-feature sums over a row block.
pub(crate) const SUMS: &str = "keras_bn_sums";
/// `batch_norm.cu`'s mean from the row blocks' sums.
pub(crate) const FINISH_MEAN: &str = "keras_bn_finish_mean";
/// `batch_norm.cu`'s variance, reciprocal deviation and moving update.
pub(crate) const FINISH_VAR: &str = "keras_bn_finish_var";
/// `batch_norm.cu`'s inference statistics.
pub(crate) const INFER_STATS: &str = "keras_bn_infer_stats";
/// `batch_norm.cu`'s normalization.
pub(crate) const NORMALIZE: &str = "keras_bn_normalize";
/// `batch_norm.cu`'s gradient sums into `gamma`'s and `beta`'s gradients.
pub(crate) const FINISH_GRAD: &str = "keras_bn_finish_grad";
/// `batch_norm.cu`'s input gradient.
pub(crate) const INPUT_GRAD: &str = "keras_bn_input_grad";
/// Every kernel of `batch_norm.cu`.
pub(crate) const NAMES: [&str; 7] = [
    SUMS,
    FINISH_MEAN,
    FINISH_VAR,
    INFER_STATS,
    NORMALIZE,
    FINISH_GRAD,
    INPUT_GRAD,
];

/// `KERAS_BN_SUM_X`, `KERAS_BN_SUM_SQUARES`, `KERAS_BN_SUM_GRADS`.
const SUM_X: u32 = 0;
const SUM_SQUARES: u32 = 1;
const SUM_GRADS: u32 = 2;

/// Columns per block of [`SUMS`] (`column_lanes.cuh`'s `KERAS_LANE_COLS`).
const COLS_PER_BLOCK: usize = 32;
/// Threads per block of [`SUMS`]: `KERAS_LANE_COLS × KERAS_LANE_ROWS`.
const SUM_THREADS: u32 = 256;
/// Rows a block of [`SUMS`] takes, at least.
const ROWS_PER_BLOCK: usize = 256;
/// At most this many row blocks, so the partial sums stay small.
const MAX_ROW_BLOCKS: usize = 1024;
/// Threads per block of the other kernels.
const THREADS: u32 = 256;

/// The sizes of one batch normalization: `rows` rows of `c` features.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NormDims {
    /// Rows of the batch.
    pub rows: usize,
    /// Features per row.
    pub c: usize,
}

impl NormDims {
    /// The sizes, when the fused op takes them: neither is 0 and the batch's length fits a
    /// `usize`. Other batches go to dfdx's ops.
    pub(crate) fn new(rows: usize, c: usize) -> Option<Self> {
        (rows > 0 && c > 0 && rows.checked_mul(c).is_some()).then_some(NormDims { rows, c })
    }

    /// Row blocks of the per-feature sums.
    pub(crate) fn row_blocks(&self) -> usize {
        self.rows.div_ceil(ROWS_PER_BLOCK).min(MAX_ROW_BLOCKS)
    }

    /// Floats of the partial sums: two of [`row_blocks`](Self::row_blocks) `× c`.
    pub(crate) fn partial_len(&self) -> usize {
        2 * self.row_blocks() * self.c
    }

    /// Floats of the statistics (each feature's mean and reciprocal deviation) and of the
    /// gradient sums.
    pub(crate) fn stats_len(&self) -> usize {
        2 * self.c
    }

    /// The launch of [`SUMS`].
    fn sums_launch(&self) -> Launch {
        Launch {
            grid: u32::try_from(self.c.div_ceil(COLS_PER_BLOCK)).unwrap_or(u32::MAX),
            grid_y: u32::try_from(self.row_blocks()).unwrap_or(u32::MAX),
            block: SUM_THREADS,
            shared_bytes: 0,
        }
    }

    /// The second half of the partial sums, after the first's floats.
    fn second_half(&self, partial: u64) -> u64 {
        partial + (self.row_blocks() * self.c * std::mem::size_of::<f32>()) as u64
    }

    /// [`SUMS`] in `mode`.
    fn sums(&self, mode: u32, x: u64, g: u64, stats: u64, partial: u64) -> (Launch, SumsParams) {
        (
            self.sums_launch(),
            (
                self.rows,
                self.c,
                self.rows.div_ceil(self.row_blocks()),
                mode,
                x,
                g,
                stats,
                partial,
                self.second_half(partial),
            ),
        )
    }
}

/// [`SUMS`]'s parameters: rows, features, rows per row block, the mode, the input's, the output
/// gradient's (or the input's again), the statistics' and the partial sums' two halves'
/// addresses.
pub(crate) type SumsParams = (usize, usize, usize, u32, u64, u64, u64, u64, u64);

/// [`FINISH_MEAN`]'s parameters: row blocks, features, rows, the partial sums' and the
/// statistics' addresses.
pub(crate) type FinishMeanParams = (usize, usize, usize, u64, u64);

/// [`FINISH_VAR`]'s parameters: row blocks, features, rows, epsilon, the moving statistics'
/// momentum and one less it, the partial sums', the statistics', the moving mean's and the
/// moving variance's addresses.
pub(crate) type FinishVarParams = (usize, usize, usize, f32, f32, f32, u64, u64, u64, u64);

/// [`INFER_STATS`]'s parameters: features, epsilon, the moving mean's, the moving variance's
/// and the statistics' addresses.
pub(crate) type InferStatsParams = (usize, f32, u64, u64, u64);

/// [`NORMALIZE`]'s parameters: rows, features, the input's, the statistics', `gamma`'s,
/// `beta`'s and the output's addresses.
pub(crate) type NormalizeParams = (usize, usize, u64, u64, u64, u64, u64);

/// [`FINISH_GRAD`]'s parameters: row blocks, features, the partial sums' two halves', the
/// gradient sums', `gamma`'s and `beta`'s gradients' addresses.
pub(crate) type FinishGradParams = (usize, usize, u64, u64, u64, u64, u64);

/// [`INPUT_GRAD`]'s parameters: rows, features, whether training, the input's, the
/// statistics', `gamma`'s, the output gradient's, the gradient sums' and the input gradient's
/// addresses.
pub(crate) type InputGradParams = (usize, usize, u32, u64, u64, u64, u64, u64, u64);

/// The buffers of a forward, by address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForwardBuffers {
    /// The input.
    pub x: u64,
    /// `gamma`.
    pub gamma: u64,
    /// `beta`.
    pub beta: u64,
    /// The moving mean (updated in training).
    pub moving_mean: u64,
    /// The moving variance (updated in training).
    pub moving_var: u64,
    /// [`NormDims::partial_len`] floats (training only).
    pub partial: u64,
    /// [`NormDims::stats_len`] floats, written.
    pub stats: u64,
    /// The output, written.
    pub y: u64,
}

/// A training forward, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TrainForward {
    /// The row blocks' sums of `x`.
    pub sum_x: (Launch, SumsParams),
    /// The mean.
    pub mean: (Launch, FinishMeanParams),
    /// The row blocks' sums of squares.
    pub sum_squares: (Launch, SumsParams),
    /// The variance, the reciprocal deviation, the moving update.
    pub var: (Launch, FinishVarParams),
    /// The output.
    pub normalize: (Launch, NormalizeParams),
}

/// The training forward: the batch's statistics, the moving statistics' update (`momentum`),
/// the output.
pub(crate) fn train_forward(
    d: NormDims,
    epsilon: f32,
    momentum: f64,
    b: ForwardBuffers,
) -> TrainForward {
    let blocks = d.row_blocks();
    let per_feature = Launch::grid_stride(d.c, THREADS);
    TrainForward {
        sum_x: d.sums(SUM_X, b.x, b.x, b.stats, b.partial),
        mean: (per_feature, (blocks, d.c, d.rows, b.partial, b.stats)),
        sum_squares: d.sums(SUM_SQUARES, b.x, b.x, b.stats, b.partial),
        var: (
            per_feature,
            (
                blocks,
                d.c,
                d.rows,
                epsilon,
                momentum as f32,
                (1.0 - momentum) as f32,
                b.partial,
                b.stats,
                b.moving_mean,
                b.moving_var,
            ),
        ),
        normalize: normalize(d, &b),
    }
}

/// The output from the statistics.
fn normalize(d: NormDims, b: &ForwardBuffers) -> (Launch, NormalizeParams) {
    (
        Launch::grid_stride(d.rows * d.c, THREADS),
        (d.rows, d.c, b.x, b.stats, b.gamma, b.beta, b.y),
    )
}

/// An inference forward, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct InferForward {
    /// The statistics from the moving ones.
    pub stats: (Launch, InferStatsParams),
    /// The output.
    pub normalize: (Launch, NormalizeParams),
}

/// The inference forward (the partial sums are not used).
pub(crate) fn infer_forward(d: NormDims, epsilon: f32, b: ForwardBuffers) -> InferForward {
    InferForward {
        stats: (
            Launch::grid_stride(d.c, THREADS),
            (d.c, epsilon, b.moving_mean, b.moving_var, b.stats),
        ),
        normalize: normalize(d, &b),
    }
}

/// The buffers of a backward, by address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackwardBuffers {
    /// The input.
    pub x: u64,
    /// `gamma`.
    pub gamma: u64,
    /// The statistics the forward used.
    pub stats: u64,
    /// The output's gradient.
    pub grad_out: u64,
    /// [`NormDims::partial_len`] floats.
    pub partial: u64,
    /// [`NormDims::stats_len`] floats for the gradient sums.
    pub sums: u64,
    /// `gamma`'s gradient, added to.
    pub grad_gamma: u64,
    /// `beta`'s gradient, added to.
    pub grad_beta: u64,
    /// The input's gradient, added to; `None` for the data batch (not computed).
    pub grad_input: Option<u64>,
}

/// A backward, in order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backward {
    /// The row blocks' sums of `g` and `g · xhat`.
    pub sums: (Launch, SumsParams),
    /// Their totals, added to the parameters' gradients.
    pub finish: (Launch, FinishGradParams),
    /// The input's gradient, unless the input is the data batch.
    pub input: Option<(Launch, InputGradParams)>,
}

/// The backward of a training (`training`) or inference forward.
pub(crate) fn backward(d: NormDims, training: bool, b: BackwardBuffers) -> Backward {
    Backward {
        sums: d.sums(SUM_GRADS, b.x, b.grad_out, b.stats, b.partial),
        finish: (
            Launch::grid_stride(d.c, THREADS),
            (
                d.row_blocks(),
                d.c,
                b.partial,
                d.second_half(b.partial),
                b.sums,
                b.grad_gamma,
                b.grad_beta,
            ),
        ),
        input: b.grad_input.map(|dx| {
            (
                Launch::grid_stride(d.rows * d.c, THREADS),
                (
                    d.rows,
                    d.c,
                    u32::from(training),
                    b.x,
                    b.stats,
                    b.gamma,
                    b.grad_out,
                    b.sums,
                    dx,
                ),
            )
        }),
    }
}
