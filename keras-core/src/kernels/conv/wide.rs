//! Compiles a loop of the convolution or the pooling for the widest vectors the CPU has.
//!
//! The crate is built for baseline x86-64 (SSE2). The direct convolution, the max pooling and
//! the window unpacking are plain loops over channels or filters that the compiler vectorizes;
//! [`vectorized!`] defines a function that runs such a loop compiled with AVX-512 (or
//! AVX2/FMA) when the CPU has it, chosen at run time, as `gemm` chooses its kernels. Rust never
//! contracts `a * b + c` into a fused multiply-add by itself, so every build gives the same bits.

/// `$vis fn $name(args)` calling `$inner(args)` (an `#[inline(always)]` function), compiled for
/// AVX-512 (`avx512f`) or AVX2/FMA when the CPU has them, else for the crate's target.
macro_rules! vectorized {
    ($(#[$doc:meta])* $vis:vis fn $name:ident($($arg:ident: $ty:ty),* $(,)?) => $inner:path;) => {
        $(#[$doc])*
        $vis fn $name($($arg: $ty),*) {
            #[cfg(target_arch = "x86_64")]
            {
                #[target_feature(enable = "avx512f,avx2,fma")]
                fn avx512($($arg: $ty),*) {
                    $inner($($arg),*)
                }
                #[target_feature(enable = "avx2,fma")]
                fn avx2($($arg: $ty),*) {
                    $inner($($arg),*)
                }
                if std::arch::is_x86_feature_detected!("avx512f") {
                    // SAFETY: the CPU has AVX-512F (checked just above), the only requirement
                    // of calling a function compiled with it.
                    return unsafe { avx512($($arg),*) };
                }
                if std::arch::is_x86_feature_detected!("avx2")
                    && std::arch::is_x86_feature_detected!("fma")
                {
                    // SAFETY: the CPU has AVX2 and FMA (checked just above).
                    return unsafe { avx2($($arg),*) };
                }
            }
            $inner($($arg),*)
        }
    };
}

pub(super) use vectorized;
