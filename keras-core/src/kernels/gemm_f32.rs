//! A safe `f32` matrix product on strided views, over the `gemm` crate (AVX-512 or AVX2/FMA,
//! chosen at run time, multithreaded on rayon's pool above `gemm`'s size threshold).

#[cfg(target_arch = "x86_64")]
use super::sgemm_avx2;
use crate::{Error, Result};

/// A read-only `rows × cols` view of an `f32` buffer with arbitrary element strides.
///
/// Built row-major with [`MatRef::row_major`]; [`MatRef::t`] views the transpose without copying.
/// Every view that can be built addresses only elements inside its buffer.
///
/// # Examples
/// ```
/// use keras_core::kernels::MatRef;
///
/// let a = MatRef::row_major(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3)?;
/// assert_eq!((a.rows(), a.cols()), (2, 3));
/// assert_eq!((a.t().rows(), a.t().cols()), (3, 2));
/// # Ok::<(), keras_core::Error>(())
/// ```
#[derive(Debug, Clone, Copy)]
pub struct MatRef<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl<'a> MatRef<'a> {
    /// Views `data` as a row-major `rows × cols` matrix; `data.len()` must be `rows * cols`.
    pub fn row_major(data: &'a [f32], rows: usize, cols: usize) -> Result<Self> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(Error::ShapeMismatch {
                name: "matrix",
                expected: format!("{rows} × {cols} = {} values", rows.saturating_mul(cols)),
                got: format!("{} values", data.len()),
            });
        }
        Ok(Self {
            data,
            rows,
            cols,
            row_stride: cols,
            col_stride: 1,
        })
    }

    /// The transpose, as a view of the same buffer.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_stride: self.col_stride,
            col_stride: self.row_stride,
            ..self
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }
}

/// `dst = lhs · rhs`, or `dst += lhs · rhs` with `accumulate`, where `dst` is a row-major
/// `lhs.rows() × rhs.cols()` buffer.
///
/// Dispatches at run time to `gemm`'s best kernel for this CPU (AVX-512 where present) and runs
/// on rayon's global pool when the product is large enough to pay for threads.
///
/// # Errors
/// [`Error::ShapeMismatch`] when the inner dimensions differ or `dst` has the wrong length.
///
/// # Examples
/// ```
/// use keras_core::kernels::{matmul, MatRef};
///
/// let a = MatRef::row_major(&[1.0, 2.0, 3.0, 4.0], 2, 2)?;
/// let mut c = vec![1.0; 4];
/// matmul(&mut c, a, a.t(), true)?; // c += a · aᵀ
/// assert_eq!(c, vec![6.0, 12.0, 12.0, 26.0]);
/// # Ok::<(), keras_core::Error>(())
/// ```
pub fn matmul(dst: &mut [f32], lhs: MatRef<'_>, rhs: MatRef<'_>, accumulate: bool) -> Result<()> {
    let start = if accumulate {
        Start::Accumulate
    } else {
        Start::Zero
    };
    product(dst, lhs, rhs, start, false)
}

/// `dst = bias + lhs · rhs` (the bias row added to every row), then `max(dst, 0)` with `relu`:
/// a Dense layer's forward, the bias and the ReLU folded into the product's stores where the
/// kernel allows it (the AVX2 one), else applied block by block on the product's threads.
///
/// # Errors
/// As [`matmul`], and [`Error::ShapeMismatch`] when `bias` does not hold `rhs.cols()` values.
pub(crate) fn matmul_bias(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    bias: &[f32],
    relu: bool,
) -> Result<()> {
    if bias.len() != rhs.cols {
        return Err(Error::ShapeMismatch {
            name: "bias",
            expected: format!("{} values (rhs has {} columns)", rhs.cols, rhs.cols),
            got: format!("{} values", bias.len()),
        });
    }
    product(dst, lhs, rhs, Start::Bias(bias), relu)
}

/// `dst = start + lhs · rhs`, then `max(dst, 0)` with `relu`, on the calling thread alone: the
/// products of work that is already split across rayon's threads (the convolution's blocks of
/// images), where a product splitting itself again would only add hand-offs.
///
/// # Errors
/// As [`matmul`]; a bias must hold `rhs.cols()` values.
pub(crate) fn matmul_serial(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    start: Start<'_>,
    relu: bool,
) -> Result<()> {
    if let Start::Bias(b) = start {
        if b.len() != rhs.cols {
            return Err(Error::ShapeMismatch {
                name: "bias",
                expected: format!("{} values (rhs has {} columns)", rhs.cols, rhs.cols),
                got: format!("{} values", b.len()),
            });
        }
    }
    product_on(dst, lhs, rhs, start, relu, 1)
}

/// What a product's output starts from before `lhs · rhs` is added.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Start<'a> {
    /// Zero: the output is overwritten.
    Zero,
    /// The output's own values.
    Accumulate,
    /// A row of one value per output column, the same for every row.
    Bias(&'a [f32]),
}

impl<'a> Start<'a> {
    /// The start of the output columns `first..first + cols`.
    fn columns(self, first: usize, cols: usize) -> Self {
        match self {
            Start::Bias(b) => Start::Bias(&b[first..first + cols]),
            other => other,
        }
    }

    /// `value` (the output's current value) with this start and no product, ReLU'd with `relu`.
    fn alone(self, value: f32, col: usize, relu: bool) -> f32 {
        let v = match self {
            Start::Zero => 0.0,
            Start::Accumulate => value,
            Start::Bias(b) => b[col],
        };
        if relu {
            super::relu_f32(v)
        } else {
            v
        }
    }
}

/// The checks and the thread split behind [`matmul`] and [`matmul_bias`]; a bias holds
/// `rhs.cols()` values.
fn product(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    start: Start<'_>,
    relu: bool,
) -> Result<()> {
    product_on(dst, lhs, rhs, start, relu, rayon::current_num_threads())
}

/// [`product`] on at most `threads` of rayon's threads (1: the calling thread alone).
fn product_on(
    dst: &mut [f32],
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    start: Start<'_>,
    relu: bool,
    threads: usize,
) -> Result<()> {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    if rhs.rows != k {
        return Err(Error::ShapeMismatch {
            name: "rhs",
            expected: format!("{k} rows (lhs is {m} × {k})"),
            got: format!("{} rows", rhs.rows),
        });
    }
    if m.checked_mul(n) != Some(dst.len()) {
        return Err(Error::ShapeMismatch {
            name: "dst",
            expected: format!("{m} × {n} = {} values", m.saturating_mul(n)),
            got: format!("{} values", dst.len()),
        });
    }
    if m == 0 || n == 0 {
        return Ok(());
    }
    if k == 0 {
        for row in dst.chunks_exact_mut(n) {
            for (col, v) in row.iter_mut().enumerate() {
                *v = start.alone(*v, col, relu);
            }
        }
        return Ok(());
    }
    let parallel = threads > 1 && 2 * m * n * k >= PARALLEL_MIN_FLOPS;
    #[cfg(target_arch = "x86_64")]
    if parallel && 2 * m * n * k >= SHARED_MIN_FLOPS && avx2_kernel() {
        // Long products: one product shared by the threads (each operand packed once, tiles
        // handed out in groups). Shorter ones are split below: the shared product's three
        // hand-offs per depth block cost more than packing the smaller operand twice.
        // SAFETY: `dst` is exactly m × n row-major elements, uniquely borrowed by this call;
        // every `MatRef` addresses only elements inside its buffer (its constructor checks
        // rows × cols == len, `t` only swaps dims with strides), so the kernel reads in bounds;
        // the shared borrows of lhs and rhs cannot alias `dst`; a bias holds n values.
        unsafe {
            sgemm_avx2::sgemm(
                m,
                n,
                k,
                lhs.strided(),
                rhs.strided(),
                dst.as_mut_ptr(),
                n,
                start,
                relu,
                threads,
            )
        };
        return Ok(());
    }
    let dst = DstPtr(dst.as_mut_ptr());
    if parallel {
        // One single-threaded product per block of the larger output dimension: each thread
        // packs its own operands and never waits for the others mid-product, which scales
        // better on few cores than `gemm`'s own splitting (about 1.9× against 1.45× with 2
        // threads on the benchmark's shapes).
        use rayon::prelude::*;
        let split_rows = m > n;
        let len = if split_rows { m } else { n };
        let per_block = len.div_ceil(threads).next_multiple_of(BLOCK_ALIGN);
        let blocks = len.div_ceil(per_block);
        (0..blocks).into_par_iter().for_each(|b| {
            let first = b * per_block;
            let size = per_block.min(len - first);
            // SAFETY: the blocks are disjoint rows (or columns) of `dst`, which the checks
            // above make exactly m × n row-major elements, uniquely borrowed by this call.
            unsafe {
                if split_rows {
                    gemm_serial(
                        &dst,
                        first * n,
                        n,
                        lhs.rows_from(first, size),
                        rhs,
                        start,
                        relu,
                    )
                } else {
                    gemm_serial(
                        &dst,
                        first,
                        n,
                        lhs,
                        rhs.cols_from(first, size),
                        start.columns(first, size),
                        relu,
                    )
                }
            }
        });
    } else {
        // SAFETY: as above, with the whole of `dst` as one block.
        unsafe { gemm_serial(&dst, 0, n, lhs, rhs, start, relu) }
    }
    Ok(())
}

/// Products below this many flops (`2 m k n`) run on the calling thread alone.
const PARALLEL_MIN_FLOPS: usize = 1 << 21;

/// Products of at least this many flops (`2 m k n`, 134 M: the benchmark's W3 layers, not W1's)
/// run as one product shared by the threads when the AVX2 kernel is in use.
const SHARED_MIN_FLOPS: usize = 1 << 27;

/// Blocks of rows or columns start at multiples of this (a multiple of `gemm`'s micro-kernel
/// sizes).
const BLOCK_ALIGN: usize = 16;

/// The output buffer, shared by the threads that write disjoint blocks of it.
struct DstPtr(*mut f32);

// SAFETY: only used to write disjoint blocks of one uniquely borrowed buffer from rayon's
// threads, all of which finish before `matmul` returns.
unsafe impl Sync for DstPtr {}

impl<'a> MatRef<'a> {
    /// Rows `first..first + rows` as a view of the same buffer (`first + rows <= self.rows`).
    fn rows_from(self, first: usize, rows: usize) -> Self {
        debug_assert!(first + rows <= self.rows);
        let start = (first * self.row_stride).min(self.data.len());
        Self {
            data: &self.data[start..],
            rows,
            ..self
        }
    }

    /// The view as the AVX2 kernel's operand.
    #[cfg(target_arch = "x86_64")]
    fn strided(self) -> sgemm_avx2::Strided {
        sgemm_avx2::Strided {
            ptr: self.data.as_ptr(),
            row_stride: self.row_stride,
            col_stride: self.col_stride,
        }
    }

    /// Columns `first..first + cols` as a view of the same buffer (`first + cols <= self.cols`).
    fn cols_from(self, first: usize, cols: usize) -> Self {
        self.t().rows_from(first, cols).t()
    }
}

/// `dst = start + lhs · rhs` (then ReLU'd with `relu`) on the calling thread with `gemm`'s
/// kernels, into the `m × n` block that starts `offset` elements into `dst` with rows
/// `row_stride` apart.
///
/// # Safety
/// The block must lie inside the buffer behind `dst`, and no other thread may access it
/// meanwhile. `lhs` must be `m × k` and `rhs` `k × n`, none of them zero, and a bias hold `n`
/// values.
unsafe fn gemm_serial(
    dst: &DstPtr,
    offset: usize,
    row_stride: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    start: Start<'_>,
    relu: bool,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    debug_assert_eq!(rhs.rows, k);
    // SAFETY (both kernels): the block is in bounds and unaliased (the caller's contract).
    // Every `MatRef` addresses only elements inside its buffer (its constructor checks rows ×
    // cols == len, `t` only swaps dims with strides, and `rows_from` keeps the rows before the
    // end of the buffer), so the kernels read in bounds; the shared borrows of lhs and rhs
    // cannot alias the output block.
    #[cfg(target_arch = "x86_64")]
    if avx2_kernel() {
        unsafe {
            sgemm_avx2::sgemm(
                m,
                n,
                k,
                lhs.strided(),
                rhs.strided(),
                dst.0.add(offset),
                row_stride,
                start,
                relu,
                1,
            )
        };
        return;
    }
    // `gemm`'s kernels: the bias is written first, the ReLU applied after, row by row.
    // SAFETY: each row `i < m` of the block is in bounds and unaliased (the caller's contract),
    // and a bias holds `n` values.
    let block_row =
        |i: usize| unsafe { std::slice::from_raw_parts_mut(dst.0.add(offset + i * row_stride), n) };
    if let Start::Bias(b) = start {
        (0..m).for_each(|i| block_row(i).copy_from_slice(b));
    }
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.0.add(offset),
            1,
            row_stride as isize,
            !matches!(start, Start::Zero),
            lhs.data.as_ptr(),
            lhs.col_stride as isize,
            lhs.row_stride as isize,
            rhs.data.as_ptr(),
            rhs.col_stride as isize,
            rhs.row_stride as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
    if relu {
        (0..m).for_each(|i| {
            block_row(i)
                .iter_mut()
                .for_each(|v| *v = super::relu_f32(*v))
        });
    }
}

/// Whether products run on our AVX2 kernel: the CPU prefers it ([`sgemm_avx2::preferred`]) and
/// no test asked for `gemm`'s kernels.
#[cfg(target_arch = "x86_64")]
fn avx2_kernel() -> bool {
    #[cfg(test)]
    if tests::FORCE_CRATE.load(std::sync::atomic::Ordering::Relaxed) {
        return false;
    }
    sgemm_avx2::preferred()
}

#[cfg(test)]
mod tests {
    use super::{matmul, matmul_bias, MatRef};
    use std::sync::atomic::{AtomicBool, Ordering};

    /// Set while a test runs `gemm`'s kernels on a CPU that takes the AVX2 one (other tests
    /// running meanwhile then use `gemm`'s too, which they must pass as well).
    pub(super) static FORCE_CRATE: AtomicBool = AtomicBool::new(false);

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] * b[p * n + j]).sum();
            }
        }
        c
    }

    fn values(len: usize, seed: f32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as f32 * seed).sin() * 4.0).round() / 4.0)
            .collect()
    }

    /// `matmul` of `m × k` by `k × n` operands, each stored plain or transposed, against the
    /// naive product (exact: the values are quarters, so every sum is exact in `f32`).
    fn matches_the_naive_product_for_every_transpose(m: usize, k: usize, n: usize) {
        let a = values(m * k, 0.37);
        let b = values(k * n, 0.71);
        let at: Vec<f32> = (0..k * m).map(|i| a[(i % m) * k + i / m]).collect();
        let bt: Vec<f32> = (0..n * k).map(|i| b[(i % k) * n + i / k]).collect();
        let want = naive(&a, &b, m, k, n);
        let a_ = MatRef::row_major(&a, m, k).unwrap();
        let at_ = MatRef::row_major(&at, k, m).unwrap().t();
        let b_ = MatRef::row_major(&b, k, n).unwrap();
        let bt_ = MatRef::row_major(&bt, n, k).unwrap().t();
        for (lhs, rhs) in [(a_, b_), (at_, b_), (a_, bt_), (at_, bt_)] {
            let mut c = vec![f32::NAN; m * n];
            matmul(&mut c, lhs, rhs, false).unwrap();
            assert_eq!(c, want);
        }
    }

    #[test]
    fn matmul_matches_the_naive_product_for_every_transpose() {
        matches_the_naive_product_for_every_transpose(37, 70, 45);
    }

    #[test]
    fn large_products_split_by_rows_or_columns_across_threads_give_the_same_result() {
        // Above PARALLEL_MIN_FLOPS, in a two-thread pool: taller than wide splits the rows,
        // wider than tall the columns; 150 is not a multiple of the block alignment.
        const { assert!(2 * 150 * 70 * 100 >= super::PARALLEL_MIN_FLOPS) };
        crate::kernels::in_pool(2, || {
            matches_the_naive_product_for_every_transpose(150, 70, 100);
            matches_the_naive_product_for_every_transpose(100, 70, 150);
        });
    }

    #[test]
    fn long_products_shared_by_the_threads_give_the_same_result() {
        // At SHARED_MIN_FLOPS: one product whose packing and tiles the two threads share.
        const { assert!(2 * 512 * 256 * 512 >= super::SHARED_MIN_FLOPS) };
        crate::kernels::in_pool(2, || {
            matches_the_naive_product_for_every_transpose(512, 256, 512)
        });
    }

    /// `matmul_bias` against the definition, in a two-thread pool (above the parallel
    /// threshold: taller than wide splits rows, wider than tall columns, each with its share of
    /// the bias), with and without ReLU. Row 1 of the left operand holds a NaN, and the ReLU
    /// keeps it NaN (as Keras's `relu`).
    fn bias_and_relu_match_the_definition() {
        crate::kernels::in_pool(2, || {
            for (m, k, n) in [(150, 70, 100), (100, 70, 150), (3, 5, 7)] {
                let mut a = values(m * k, 0.37);
                a[k] = f32::NAN;
                let b = values(k * n, 0.71);
                let bias = values(n, 0.53);
                let product = naive(&a, &b, m, k, n);
                let a_ = MatRef::row_major(&a, m, k).unwrap();
                let b_ = MatRef::row_major(&b, k, n).unwrap();
                for relu in [false, true] {
                    let mut c = vec![f32::NAN; m * n];
                    matmul_bias(&mut c, a_, b_, &bias, relu).unwrap();
                    for (i, (got, p)) in c.iter().zip(&product).enumerate() {
                        let v = p + bias[i % n];
                        let want = if relu && v < 0.0 { 0.0 } else { v };
                        assert!(
                            *got == want || (got.is_nan() && want.is_nan()),
                            "{m}×{k}×{n} at {i}: {got} for {want}"
                        );
                        assert_eq!(got.is_nan(), i / n == 1, "{m}×{k}×{n} at {i}");
                    }
                }
            }
        });
    }

    #[test]
    fn bias_and_relu_are_folded_into_the_product() {
        bias_and_relu_match_the_definition();
    }

    #[test]
    fn gemm_crate_kernels_give_the_same_products() {
        FORCE_CRATE.store(true, Ordering::Relaxed);
        bias_and_relu_match_the_definition();
        matches_the_naive_product_for_every_transpose(37, 70, 45);
        FORCE_CRATE.store(false, Ordering::Relaxed);
    }

    #[test]
    fn matmul_bias_rejects_a_bias_of_the_wrong_length() {
        let a = MatRef::row_major(&[1.0; 6], 2, 3).unwrap();
        assert!(matmul_bias(&mut [0.0; 4], a, a.t(), &[0.0; 3], false).is_err());
    }

    #[test]
    fn matmul_accumulates_into_dst() {
        let a = MatRef::row_major(&[1.0, 2.0], 1, 2).unwrap();
        let b = MatRef::row_major(&[3.0, 4.0], 2, 1).unwrap();
        let mut c = vec![0.5];
        matmul(&mut c, a, b, true).unwrap();
        assert_eq!(c, vec![11.5]);
    }

    #[test]
    fn matmul_rejects_mismatched_shapes() {
        let a = MatRef::row_major(&[1.0; 6], 2, 3).unwrap();
        assert!(matmul(&mut [0.0; 4], a, a, false).is_err());
        assert!(matmul(&mut [0.0; 3], a, a.t(), false).is_err());
        assert!(MatRef::row_major(&[1.0; 5], 2, 3).is_err());
    }
}
