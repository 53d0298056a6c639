//! The fused `Dense` op on `Cuda`, planned for `cuda_kernel.rs` and for the CPU emulation alike:
//! its cuBLAS products ([`Gemm`], in cuBLAS's column-major terms) and the launches of
//! `dense.cu`'s kernels, in the order they run, from the buffers' addresses.
//!
//! A row-major `r × c` matrix is, to cuBLAS, the column-major `c × r` matrix of its transpose, so
//! the row-major product `C = A · B` is cuBLAS's `Cᵀ = Bᵀ · Aᵀ` with no operand transposed.

use crate::kernels::Launch;

/// `dense.cu`'s epilogue kernel.
pub(crate) const BIAS: &str = "keras_dense_bias";
/// `dense.cu`'s ReLU mask and bias gradient.
pub(crate) const BIAS_GRAD: &str = "keras_dense_bias_grad";
/// `dense.cu`'s sum of the row blocks' bias gradients.
pub(crate) const SUM_CHUNKS: &str = "keras_dense_sum_chunks";
/// Every kernel of `dense.cu`.
pub(crate) const NAMES: [&str; 3] = [BIAS, BIAS_GRAD, SUM_CHUNKS];

/// Columns per block of [`BIAS_GRAD`] (`KERAS_DENSE_COLS`).
const COLS_PER_BLOCK: usize = 32;
/// Threads per block of [`BIAS_GRAD`]: `KERAS_DENSE_COLS × KERAS_DENSE_ROW_LANES`.
const BIAS_GRAD_THREADS: u32 = 256;
/// Rows a block of [`BIAS_GRAD`] takes, at least (32 per row lane): a batch of up to this many
/// rows is one row block, whose sums go straight into the bias gradient.
const ROWS_PER_BLOCK: usize = 256;
/// At most this many row blocks (the grid's `y` extent), so the scratch stays small.
const MAX_ROW_BLOCKS: usize = 1024;
/// Threads per block of the elementwise kernels.
const THREADS: u32 = 256;

/// The sizes of one fused product: a `rows × inner` input, an `inner × cols` kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DenseDims {
    /// Rows of the batch.
    pub rows: usize,
    /// Columns of the input, rows of the kernel.
    pub inner: usize,
    /// Columns of the kernel and of the output.
    pub cols: usize,
}

impl DenseDims {
    /// The sizes, when the fused op takes them: none is 0 and each fits cuBLAS's `int` (and the
    /// grid's `u32`). Other sizes go to dfdx's ops.
    pub(crate) fn new(rows: usize, inner: usize, cols: usize) -> Option<Self> {
        let fits = |d: usize| d > 0 && i32::try_from(d).is_ok();
        (fits(rows) && fits(inner) && fits(cols)).then_some(DenseDims { rows, inner, cols })
    }

    /// Row blocks of the bias gradient.
    pub(crate) fn row_blocks(&self) -> usize {
        self.rows.div_ceil(ROWS_PER_BLOCK).min(MAX_ROW_BLOCKS)
    }

    /// Rows per row block.
    fn rows_per_block(&self) -> usize {
        self.rows.div_ceil(self.row_blocks())
    }

    /// Floats of scratch the backward needs for the row blocks' sums (0 for one row block).
    pub(crate) fn scratch_len(&self) -> usize {
        match self.row_blocks() {
            1 => 0,
            blocks => blocks * self.cols,
        }
    }

    /// Floats of the output (and of the masked gradient).
    pub(crate) fn out_len(&self) -> usize {
        self.rows * self.cols
    }

    /// cuBLAS's `int` of a size [`new`](Self::new) checked.
    fn int(d: usize) -> i32 {
        i32::try_from(d).unwrap_or(i32::MAX)
    }
}

/// One cuBLAS `sgemm` call: `C = op(A) · op(B) + beta · C` on column-major matrices, `op(A)`
/// being `m × k` and `op(B)` `k × n` (`alpha` is 1), operands by address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Gemm {
    /// `A` is transposed (`CUBLAS_OP_T`).
    pub transa: bool,
    /// `B` is transposed.
    pub transb: bool,
    /// Rows of `op(A)` and of `C`.
    pub m: i32,
    /// Columns of `op(B)` and of `C`.
    pub n: i32,
    /// Columns of `op(A)`, rows of `op(B)`.
    pub k: i32,
    /// `A`'s address.
    pub a: u64,
    /// `A`'s leading dimension.
    pub lda: i32,
    /// `B`'s address.
    pub b: u64,
    /// `B`'s leading dimension.
    pub ldb: i32,
    /// 0 to overwrite `C`, 1 to add to it.
    pub beta: f32,
    /// `C`'s address.
    pub c: u64,
    /// `C`'s leading dimension.
    pub ldc: i32,
}

/// [`BIAS`]'s parameters: rows, columns, ReLU (0 or 1), the bias's and the output's addresses.
pub(crate) type BiasParams = (usize, usize, u32, u64, u64);

/// [`BIAS_GRAD`]'s parameters: rows, columns, rows per row block, the upstream gradient's, the
/// output's (0 without ReLU), the masked gradient's (0 without ReLU) and the sums' addresses,
/// and whether to add to the sums (1: the bias gradient) or write them (0: the scratch).
pub(crate) type BiasGradParams = (usize, usize, usize, u64, u64, u64, u64, u32);

/// [`SUM_CHUNKS`]'s parameters: row blocks, columns, the scratch's and the bias gradient's
/// addresses.
pub(crate) type SumChunksParams = (usize, usize, u64, u64);

/// The forward: the product into `y`, then the bias (and the ReLU).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Forward {
    /// `y = x · kernel`.
    pub product: Gemm,
    /// `y += bias`, then the ReLU.
    pub bias: (Launch, BiasParams),
}

/// The forward of `relu?(x · kernel + bias)` on row-major buffers at the given addresses, `y`
/// holding `rows × cols` floats.
pub(crate) fn forward(d: DenseDims, relu: bool, x: u64, kernel: u64, bias: u64, y: u64) -> Forward {
    let (rows, inner, cols) = (
        DenseDims::int(d.rows),
        DenseDims::int(d.inner),
        DenseDims::int(d.cols),
    );
    // Row-major y (rows × cols) = x (rows × inner) · kernel (inner × cols):
    // cuBLAS yᵀ (cols × rows) = kernelᵀ (cols × inner) · xᵀ (inner × rows).
    let product = Gemm {
        transa: false,
        transb: false,
        m: cols,
        n: rows,
        k: inner,
        a: kernel,
        lda: cols,
        b: x,
        ldb: inner,
        beta: 0.0,
        c: y,
        ldc: cols,
    };
    let shape = Launch::grid_stride(d.out_len(), THREADS);
    Forward {
        product,
        bias: (shape, (d.rows, d.cols, u32::from(relu), bias, y)),
    }
}

/// The buffers of a backward, by address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BackwardBuffers {
    /// The input (`rows × inner`).
    pub x: u64,
    /// The kernel (`inner × cols`).
    pub kernel: u64,
    /// The output and a buffer for the masked gradient, when the op ends in a ReLU.
    pub relu: Option<ReluBuffers>,
    /// The output's gradient.
    pub grad_out: u64,
    /// [`DenseDims::scratch_len`] floats (used with several row blocks only).
    pub scratch: u64,
    /// The kernel's gradient, added to.
    pub grad_kernel: u64,
    /// The bias's gradient, added to.
    pub grad_bias: u64,
    /// The input's gradient, added to; `None` for the data batch (not computed).
    pub grad_input: Option<u64>,
}

/// What a ReLU's backward reads and writes, by address.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ReluBuffers {
    /// The op's output (`rows × cols`): the mask is where it is above 0.
    pub out: u64,
    /// `rows × cols` floats for the masked gradient, which the products then read.
    pub masked: u64,
}

/// The backward, in order: the mask and bias gradient, the row blocks' sum, the kernel's
/// gradient, the input's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Backward {
    /// The ReLU mask and the bias gradient (or the row blocks' sums).
    pub bias_grad: (Launch, BiasGradParams),
    /// The row blocks' sums into the bias gradient, with several row blocks.
    pub sum_chunks: Option<(Launch, SumChunksParams)>,
    /// `grad_kernel += xᵀ · g`.
    pub grad_kernel: Gemm,
    /// `grad_input += g · kernelᵀ`, unless the input is the data batch.
    pub grad_input: Option<Gemm>,
}

/// The backward of the op [`forward`] planned, accumulating into the gradients as dfdx's ops do.
pub(crate) fn backward(d: DenseDims, b: BackwardBuffers) -> Backward {
    let (rows, inner, cols) = (
        DenseDims::int(d.rows),
        DenseDims::int(d.inner),
        DenseDims::int(d.cols),
    );
    let row_blocks = d.row_blocks();
    let (sums, accumulate) = match row_blocks {
        1 => (b.grad_bias, 1),
        _ => (b.scratch, 0),
    };
    let (out, masked) = b.relu.map_or((0, 0), |r| (r.out, r.masked));
    let bias_grad = (
        Launch {
            grid: u32::try_from(d.cols.div_ceil(COLS_PER_BLOCK)).unwrap_or(u32::MAX),
            grid_y: u32::try_from(row_blocks).unwrap_or(u32::MAX),
            block: BIAS_GRAD_THREADS,
            shared_bytes: 0,
        },
        (
            d.rows,
            d.cols,
            d.rows_per_block(),
            b.grad_out,
            out,
            masked,
            sums,
            accumulate,
        ),
    );
    let sum_chunks = (row_blocks > 1).then(|| {
        (
            Launch::grid_stride(d.cols, THREADS),
            (row_blocks, d.cols, b.scratch, b.grad_bias),
        )
    });
    // The gradient the products read: the masked one after a ReLU.
    let g = b.relu.map_or(b.grad_out, |r| r.masked);
    // Row-major grad_kernel (inner × cols) += xᵀ (inner × rows) · g (rows × cols):
    // cuBLAS grad_kernelᵀ (cols × inner) += gᵀ (cols × rows) · x (rows × inner), where x is the
    // transpose of the column-major xᵀ (inner × rows, leading dimension inner).
    let grad_kernel = Gemm {
        transa: false,
        transb: true,
        m: cols,
        n: inner,
        k: rows,
        a: g,
        lda: cols,
        b: b.x,
        ldb: inner,
        beta: 1.0,
        c: b.grad_kernel,
        ldc: cols,
    };
    // Row-major grad_input (rows × inner) += g (rows × cols) · kernelᵀ (cols × inner):
    // cuBLAS grad_inputᵀ (inner × rows) += kernel (inner × cols) · gᵀ (cols × rows), where kernel
    // is the transpose of the column-major kernelᵀ (cols × inner, leading dimension cols).
    let grad_input = b.grad_input.map(|grad_input| Gemm {
        transa: true,
        transb: false,
        m: inner,
        n: rows,
        k: cols,
        a: b.kernel,
        lda: cols,
        b: g,
        ldb: cols,
        beta: 1.0,
        c: grad_input,
        ldc: inner,
    });
    Backward {
        bias_grad,
        sum_chunks,
        grad_kernel,
        grad_input,
    }
}
