//! The cuBLAS products of the `Cuda` plans ([`Gemm`]), run on the CPU by BLAS's definition.

use crate::kernels::dense::launch::Gemm;

/// BLAS's `sgemm` with `alpha` 1, by its definition: `C = op(A) · op(B) + beta · C`, every
/// matrix column-major with its leading dimension, `C` not read when `beta` is 0.
///
/// # Safety
/// The addresses must be host buffers as long as the sizes and leading dimensions say, `c` not
/// overlapping the others.
pub(crate) unsafe fn reference_sgemm(g: &Gemm) {
    let (m, n, k) = (g.m as usize, g.n as usize, g.k as usize);
    let (lda, ldb, ldc) = (g.lda as usize, g.ldb as usize, g.ldc as usize);
    let (a, b, c) = (g.a as *const f32, g.b as *const f32, g.c as *mut f32);
    for j in 0..n {
        for i in 0..m {
            let mut sum = 0.0f64;
            for l in 0..k {
                // SAFETY: within `A` and `B` by the caller's promise.
                let (av, bv) = unsafe {
                    (
                        *a.add(if g.transa { l + i * lda } else { i + l * lda }),
                        *b.add(if g.transb { j + l * ldb } else { l + j * ldb }),
                    )
                };
                sum += f64::from(av) * f64::from(bv);
            }
            // SAFETY: within `C` by the caller's promise.
            unsafe {
                let out = c.add(i + j * ldc);
                *out = if g.beta == 0.0 {
                    sum as f32
                } else {
                    (sum + f64::from(g.beta) * f64::from(*out)) as f32
                };
            }
        }
    }
}
