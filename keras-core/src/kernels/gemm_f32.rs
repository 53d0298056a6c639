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
        if !accumulate {
            dst.fill(0.0);
        }
        return Ok(());
    }
    let threads = rayon::current_num_threads();
    let dst = DstPtr(dst.as_mut_ptr());
    if threads > 1 && 2 * m * n * k >= PARALLEL_MIN_FLOPS {
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
                        accumulate,
                    )
                } else {
                    gemm_serial(&dst, first, n, lhs, rhs.cols_from(first, size), accumulate)
                }
            }
        });
    } else {
        // SAFETY: as above, with the whole of `dst` as one block.
        unsafe { gemm_serial(&dst, 0, n, lhs, rhs, accumulate) }
    }
    Ok(())
}

/// Products below this many flops (`2 m k n`) run on the calling thread alone.
const PARALLEL_MIN_FLOPS: usize = 1 << 21;

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

/// `dst (+)= lhs · rhs` on the calling thread, into the `m × n` block that starts `offset`
/// elements into `dst` with rows `row_stride` apart.
///
/// # Safety
/// The block must lie inside the buffer behind `dst`, and no other thread may access it
/// meanwhile. `lhs` must be `m × k` and `rhs` `k × n`, none of them zero.
unsafe fn gemm_serial(
    dst: &DstPtr,
    offset: usize,
    row_stride: usize,
    lhs: MatRef<'_>,
    rhs: MatRef<'_>,
    accumulate: bool,
) {
    let (m, k, n) = (lhs.rows, lhs.cols, rhs.cols);
    debug_assert_eq!(rhs.rows, k);
    // SAFETY (both calls): the block is in bounds and unaliased (the caller's contract). Every
    // `MatRef` addresses only elements inside its buffer (its constructor checks rows × cols ==
    // len, `t` only swaps dims with strides, and `rows_from` keeps the rows before the end of
    // the buffer), so the kernels read in bounds; the shared borrows of lhs and rhs cannot
    // alias the output block.
    #[cfg(target_arch = "x86_64")]
    if sgemm_avx2::preferred() {
        unsafe {
            sgemm_avx2::sgemm(
                m,
                n,
                k,
                lhs.strided(),
                rhs.strided(),
                dst.0.add(offset),
                row_stride,
                accumulate,
            )
        };
        return;
    }
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.0.add(offset),
            1,
            row_stride as isize,
            accumulate,
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
}

#[cfg(test)]
mod tests {
    use super::{matmul, MatRef};

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
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        pool.install(|| {
            matches_the_naive_product_for_every_transpose(150, 70, 100);
            matches_the_naive_product_for_every_transpose(100, 70, 150);
        });
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
