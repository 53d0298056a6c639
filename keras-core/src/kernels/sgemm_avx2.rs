//! An `f32` matrix product for x86-64 CPUs with AVX2 and FMA but no AVX-512 (AMD Zen 2/3,
//! Intel Haswell to Comet Lake), laid out as BLIS does it.
//!
//! The operands are copied ("packed") into the calling thread's buffers block by block: a
//! `KC × NC` block of the right operand as panels of [`NR`] columns (kept in L3, each panel in
//! L1 while it is used), an `MC × KC` block of the left operand as panels of [`MR`] rows (kept
//! in L2), each read along its contiguous direction, so transposed operands cost nothing extra.
//! A `6 × 16` micro-kernel then keeps its output tile in twelve of the sixteen AVX registers and
//! streams both panels, two FMAs per loaded 16-wide row of the right panel and broadcast value
//! of the left; the bias and the ReLU of a Dense layer are folded into its first and last
//! stores. With several threads, every phase (pack right, pack left, tiles) is shared.
//!
//! On the benchmark's wide workload (W3) on a 2-core Zen 3, whole `fit` runs were 1.07–1.16×
//! faster with it than with `gemm` 0.19's AVX2 kernels (`KERAS_RS_GEMM=crate`, alternating
//! runs; `BENCHMARKS.md`). `gemm` stays in use on CPUs with AVX-512 (its wider kernels) and on
//! CPUs without AVX2.

use std::arch::x86_64::{
    __m256, _mm256_add_ps, _mm256_broadcast_ss, _mm256_fmadd_ps, _mm256_load_ps, _mm256_loadu_ps,
    _mm256_max_ps, _mm256_permute2f128_ps, _mm256_setzero_ps, _mm256_shuffle_ps, _mm256_storeu_ps,
    _mm256_unpackhi_ps, _mm256_unpacklo_ps, _mm_prefetch, _MM_HINT_T0,
};
use std::cell::Cell;
use std::sync::OnceLock;

use super::gemm_f32::Start;

/// Rows of the micro-kernel's output tile.
const MR: usize = 6;
/// Columns of the micro-kernel's output tile (two AVX registers).
const NR: usize = 16;
/// Depth of one packed block (a `KC × NR` right panel is 32 KiB, L1's size; 512 ran W3's `fit`
/// 3–4% faster than 256 in alternating A/B runs: half as many passes over the output).
const KC: usize = 512;
/// Rows of one packed left block (`MC × KC` floats, 288 KiB: within L2).
const MC: usize = 144;
/// Columns of one packed right block.
const NC: usize = 4080;

/// Whether this CPU runs this kernel and has nothing better: AVX2 and FMA, no AVX-512; unless
/// the environment variable `KERAS_RS_GEMM` is `crate` (`gemm`'s kernels, for comparisons).
pub(super) fn preferred() -> bool {
    static PREFERRED: OnceLock<bool> = OnceLock::new();
    *PREFERRED.get_or_init(|| {
        std::env::var_os("KERAS_RS_GEMM").is_none_or(|v| v != "crate")
            && is_x86_feature_detected!("avx2")
            && is_x86_feature_detected!("fma")
            && !is_x86_feature_detected!("avx512f")
    })
}

thread_local! {
    /// Packed left and right blocks, 32-byte aligned, reused by every product on this thread.
    static PACKED: Cell<(Vec<__m256>, Vec<__m256>)> = const { Cell::new((Vec::new(), Vec::new())) };
}

/// A matrix operand: its first element and the distance between rows and between columns.
#[derive(Clone, Copy)]
pub(super) struct Strided {
    pub(super) ptr: *const f32,
    pub(super) row_stride: usize,
    pub(super) col_stride: usize,
}

impl Strided {
    /// The element at `(row, col)`'s address.
    ///
    /// # Safety
    /// `(row, col)` must lie inside the operand.
    unsafe fn at(self, row: usize, col: usize) -> *const f32 {
        // SAFETY: in bounds by the caller's contract.
        unsafe { self.ptr.add(row * self.row_stride + col * self.col_stride) }
    }
}

/// `c = start + a · b`, then `max(c, 0)` with `relu`; `a` being `m × k`,
/// `b` `k × n` and `c` `m × n` with rows `c_row_stride` apart and unit column stride, `start`
/// zero, `c` itself or a bias row added to every row (folded into the first and last stores of
/// each tile: no extra pass over `c`).
///
/// With `threads > 1` the work is shared on rayon's pool: each block of each operand is packed
/// once, by all threads together, and the tiles are handed out in groups, several per thread,
/// so that a thread slowed by other load gives its share to the others.
///
/// # Safety
/// [`preferred`] must be true (the CPU has AVX2 and FMA); every element of `a`, `b` and `c`
/// addressed by the dimensions and strides must be inside its allocation, `c`'s must not
/// overlap `a`'s or `b`'s, no other thread may access `c` meanwhile, and a bias must hold `n`
/// values.
#[allow(clippy::too_many_arguments)]
pub(super) unsafe fn sgemm(
    m: usize,
    n: usize,
    k: usize,
    a: Strided,
    b: Strided,
    c: *mut f32,
    c_row_stride: usize,
    start: Start<'_>,
    relu: bool,
    threads: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    let (accumulate, bias) = match start {
        Start::Zero => (false, std::ptr::null()),
        Start::Accumulate => (true, std::ptr::null()),
        Start::Bias(b) => (false, b.as_ptr()),
    };
    let (mut left, mut right) = PACKED.take();
    let left_ptr = reserve(&mut left, MC.min(m).next_multiple_of(MR) * KC.min(k));
    let right_ptr = reserve(&mut right, NC.min(n).next_multiple_of(NR) * KC.min(k));
    if k == 0 {
        let store = Store {
            add: accumulate,
            bias,
            relu,
        };
        for i in 0..m {
            for j in 0..n {
                // SAFETY: (i, j) of `c` is in bounds and unaliased, a bias holds `n` values
                // (the caller's contract).
                unsafe {
                    let out = c.add(i * c_row_stride + j);
                    *out = store.scalar(*out, 0.0, j);
                }
            }
        }
    }
    for jc in (0..n).step_by(NC) {
        let nc = NC.min(n - jc);
        for pc in (0..k).step_by(KC) {
            let kc = KC.min(k - pc);
            // The first block of the depth starts `c` (zero, itself or the bias); later ones
            // add to it; the last one applies the ReLU.
            let store = Store {
                add: accumulate || pc > 0,
                bias: if pc == 0 && !bias.is_null() {
                    // SAFETY: the bias holds `n` values.
                    unsafe { bias.add(jc) }
                } else {
                    std::ptr::null()
                },
                relu: relu && pc + kc == k,
            };
            let b_panels = nc.div_ceil(NR);
            let shared = Shared((a, b, c, left_ptr, right_ptr, store));
            // SAFETY (all three phases): the blocks lie inside the operands (the caller's
            // contract); the packed buffers hold `MC × KC` and `NC × KC` floats rounded up to
            // whole panels, and each part packs its own panels; each tile group writes its own
            // rows × columns of `c`; every phase ends before the next starts.
            split(b_panels, threads, |first, last| {
                let (_, b, _, _, right, _) = shared.get();
                let j = first * NR;
                let cols = (last * NR).min(nc) - j;
                unsafe { pack_right(kc, cols, b.at(pc, jc + j), b, right.add(j * kc)) };
            });
            for ic in (0..m).step_by(MC) {
                let mc = MC.min(m - ic);
                let a_panels = mc.div_ceil(MR);
                split(a_panels, threads, |first, last| {
                    let (a, _, _, left, _, _) = shared.get();
                    let i = first * MR;
                    let rows = (last * MR).min(mc) - i;
                    unsafe { pack_left(rows, kc, a.at(ic + i, pc), a, left.add(i * kc)) };
                });
                let (row_groups, col_groups) = tile_groups(a_panels, b_panels, threads);
                split(
                    row_groups * col_groups,
                    row_groups * col_groups,
                    |group, _| {
                        let (_, _, c, left, right, store) = shared.get();
                        let (rg, cg) = (group / col_groups, group % col_groups);
                        let i = rg * a_panels / row_groups * MR;
                        let rows = ((rg + 1) * a_panels / row_groups * MR).min(mc) - i;
                        let j = cg * b_panels / col_groups * NR;
                        let cols = ((cg + 1) * b_panels / col_groups * NR).min(nc) - j;
                        unsafe {
                            block(
                                rows,
                                cols,
                                kc,
                                left.add(i * kc),
                                right.add(j * kc),
                                c.add((ic + i) * c_row_stride + jc + j),
                                c_row_stride,
                                store.shifted(j),
                            )
                        };
                    },
                );
            }
        }
    }
    PACKED.set((left, right));
}

/// Values shared by the threads of one product: the operands' and buffers' addresses, each
/// thread reading or writing only its own part.
struct Shared<T>(T);

// SAFETY: only used inside `sgemm`, whose phases give every thread disjoint panels and tiles to
// write and end before the next phase (or `sgemm`) starts.
unsafe impl<T> Sync for Shared<T> {}

impl<T: Copy> Shared<T> {
    /// The values (a method, so that closures capture the whole `Shared`, not its field).
    fn get(&self) -> T {
        self.0
    }
}

/// Runs `part(first, last)` on `parts` near-equal ranges of `0..count`, on rayon's pool when
/// `parts > 1` (every range done on return).
fn split(count: usize, parts: usize, part: impl Fn(usize, usize) + Sync) {
    let parts = parts.min(count);
    if parts <= 1 {
        if count > 0 {
            part(0, count);
        }
        return;
    }
    use rayon::prelude::*;
    (0..parts).into_par_iter().for_each(|p| {
        let (first, last) = (p * count / parts, (p + 1) * count / parts);
        if first < last {
            part(first, last);
        }
    });
}

/// How many groups of row panels and of column panels the tiles of one block are handed out
/// in: about four groups per thread, columns first (one thread alone: one group).
fn tile_groups(row_panels: usize, col_panels: usize, threads: usize) -> (usize, usize) {
    if threads <= 1 {
        return (1, 1);
    }
    let target = 4 * threads;
    let cols = col_panels.min(target).max(1);
    let rows = target.div_ceil(cols).min(row_panels).max(1);
    (rows, cols)
}

/// How a tile's result meets `c`: added to it (`add`), else written, plus the bias row at
/// `bias` (unless null) on the first depth block, then `max(·, 0)` with `relu` on the last.
#[derive(Clone, Copy)]
struct Store {
    add: bool,
    bias: *const f32,
    relu: bool,
}

impl Store {
    /// The stored value of column `col` for a product `v` over `c`'s current `old`.
    ///
    /// # Safety
    /// A bias must hold column `col`.
    unsafe fn scalar(self, old: f32, v: f32, col: usize) -> f32 {
        let v = if self.add {
            old + v
        } else if self.bias.is_null() {
            v
        } else {
            // SAFETY: by the caller's contract.
            v + unsafe { *self.bias.add(col) }
        };
        if self.relu {
            super::relu_f32(v)
        } else {
            v
        }
    }

    /// The same store for the tile whose first column is `col` columns further right.
    ///
    /// # Safety
    /// A bias must hold that column.
    unsafe fn shifted(self, col: usize) -> Self {
        if self.bias.is_null() {
            return self;
        }
        Self {
            // SAFETY: by the caller's contract.
            bias: unsafe { self.bias.add(col) },
            ..self
        }
    }
}

/// Grows `buffer` to at least `floats` floats and returns its start.
fn reserve(buffer: &mut Vec<__m256>, floats: usize) -> *mut f32 {
    let vectors = floats.div_ceil(8);
    if buffer.len() < vectors {
        // SAFETY: `_mm256_setzero_ps` only needs AVX, which every caller has (`preferred`).
        buffer.resize(vectors, unsafe { _mm256_setzero_ps() });
    }
    buffer.as_mut_ptr().cast()
}

/// Packs the `mc × kc` block of the left operand starting at `src` into panels of [`MR`] rows,
/// each stored column by column (`MR` values per depth step), the last one padded with zeros.
///
/// # Safety
/// The block must lie inside the operand and `dst` hold `mc` rounded up to `MR`, times `kc`.
unsafe fn pack_left(mc: usize, kc: usize, src: *const f32, a: Strided, dst: *mut f32) {
    // SAFETY: the caller's contract, rows being the panels' lines.
    unsafe { pack::<MR>(mc, kc, src, a.row_stride, a.col_stride, dst) }
}

/// Packs the `kc × nc` block of the right operand starting at `src` into panels of [`NR`]
/// columns, each stored row by row (`NR` values per depth step), the last one padded with zeros:
/// the left packing of the transpose.
///
/// # Safety
/// The block must lie inside the operand and `dst` hold `nc` rounded up to `NR`, times `kc`.
unsafe fn pack_right(kc: usize, nc: usize, src: *const f32, b: Strided, dst: *mut f32) {
    // SAFETY: the caller's contract, columns being the panels' lines.
    unsafe { pack::<NR>(nc, kc, src, b.col_stride, b.row_stride, dst) }
}

/// Packs `lines × depth` values starting at `src` (line `l`, depth step `p` at
/// `l * line_stride + p * depth_stride`) into panels of `W` lines, each stored depth step by
/// depth step (`W` values per step), the last panel padded with zeros.
///
/// The loops follow the operand's contiguous direction, so that reads stream through memory
/// (a walk across rows thousands of floats apart misses the caches on every read).
///
/// # Safety
/// AVX2 and FMA must be present ([`preferred`]); every addressed value must lie inside the
/// operand and `dst` hold `lines` rounded up to `W`, times `depth`.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
unsafe fn pack<const W: usize>(
    lines: usize,
    depth: usize,
    src: *const f32,
    line_stride: usize,
    depth_stride: usize,
    dst: *mut f32,
) {
    let whole = lines / W * W;
    // SAFETY (whole body): every read is inside the block, every write inside the panels.
    unsafe {
        if line_stride == 1 {
            // Lines are adjacent: one depth step at a time, its `lines` values go to the panels
            // in runs of W.
            for p in 0..depth {
                let step = src.add(p * depth_stride);
                for l in (0..whole).step_by(W) {
                    std::ptr::copy_nonoverlapping(step.add(l), dst.add(l * depth + p * W), W);
                }
            }
        } else if depth_stride == 1 {
            // Each line is contiguous: 8 lines × 8 depth steps at a time, transposed in registers.
            for l in (0..whole).step_by(W) {
                transpose_panel::<W>(
                    src.add(l * line_stride),
                    line_stride,
                    depth,
                    dst.add(l * depth),
                );
            }
        } else {
            for l in (0..whole).step_by(W) {
                for p in 0..depth {
                    for i in 0..W {
                        *dst.add(l * depth + p * W + i) =
                            *src.add((l + i) * line_stride + p * depth_stride);
                    }
                }
            }
        }
        if whole < lines {
            let panel = dst.add(whole * depth);
            for p in 0..depth {
                for i in 0..W {
                    *panel.add(p * W + i) = if whole + i < lines {
                        *src.add((whole + i) * line_stride + p * depth_stride)
                    } else {
                        0.0
                    };
                }
            }
        }
    }
}

/// Packs one panel of `W` contiguous lines (`line_stride` apart, `depth` values each) into
/// `depth` steps of `W` values: each group of 8 lines is read 8 depth steps at a time and
/// transposed in registers, so reads and writes are whole vectors.
///
/// # Safety
/// AVX2; the lines must hold `depth` values each and `dst` hold `W × depth`.
#[inline(always)]
unsafe fn transpose_panel<const W: usize>(
    src: *const f32,
    line_stride: usize,
    depth: usize,
    dst: *mut f32,
) {
    let vector_depth = depth / 8 * 8;
    // SAFETY (whole body): reads stay inside the `W` lines, writes inside the panel: the one
    // store that could run past a step of W < 8 values (the last step) is written in parts.
    unsafe {
        for group in (0..W).step_by(8) {
            let count = (W - group).min(8);
            for p in (0..vector_depth).step_by(8) {
                let mut rows = [_mm256_setzero_ps(); 8];
                for (i, row) in rows.iter_mut().enumerate().take(count) {
                    *row = _mm256_loadu_ps(src.add((group + i) * line_stride + p));
                }
                for (j, column) in transpose8(rows).into_iter().enumerate() {
                    let to = dst.add((p + j) * W + group);
                    if W.is_multiple_of(8) || p + j + 1 < depth {
                        // W < 8: the lanes past the step are overwritten by the next step.
                        _mm256_storeu_ps(to, column);
                    } else {
                        store_partial(to, column, count);
                    }
                }
            }
            for p in vector_depth..depth {
                for i in 0..count {
                    *dst.add(p * W + group + i) = *src.add((group + i) * line_stride + p);
                }
            }
        }
    }
}

/// Stores the first `count` (at most 8) lanes of `v` at `to` (once per panel: not hot).
///
/// # Safety
/// AVX; `to` must hold `count` floats.
#[inline(always)]
unsafe fn store_partial(to: *mut f32, v: __m256, count: usize) {
    let mut lanes = [0f32; 8];
    // SAFETY: `lanes` holds 8 floats and `to` holds `count <= 8`.
    unsafe {
        _mm256_storeu_ps(lanes.as_mut_ptr(), v);
        std::ptr::copy_nonoverlapping(lanes.as_ptr(), to, count.min(8));
    }
}

/// The transpose of an 8 × 8 block held as 8 rows: column `j` of the input is row `j` of the
/// result.
#[inline(always)]
fn transpose8(r: [__m256; 8]) -> [__m256; 8] {
    // SAFETY: register shuffles only; the callers run with AVX enabled.
    unsafe {
        let t0 = _mm256_unpacklo_ps(r[0], r[1]);
        let t1 = _mm256_unpackhi_ps(r[0], r[1]);
        let t2 = _mm256_unpacklo_ps(r[2], r[3]);
        let t3 = _mm256_unpackhi_ps(r[2], r[3]);
        let t4 = _mm256_unpacklo_ps(r[4], r[5]);
        let t5 = _mm256_unpackhi_ps(r[4], r[5]);
        let t6 = _mm256_unpacklo_ps(r[6], r[7]);
        let t7 = _mm256_unpackhi_ps(r[6], r[7]);
        let s0 = _mm256_shuffle_ps::<0x44>(t0, t2);
        let s1 = _mm256_shuffle_ps::<0xEE>(t0, t2);
        let s2 = _mm256_shuffle_ps::<0x44>(t1, t3);
        let s3 = _mm256_shuffle_ps::<0xEE>(t1, t3);
        let s4 = _mm256_shuffle_ps::<0x44>(t4, t6);
        let s5 = _mm256_shuffle_ps::<0xEE>(t4, t6);
        let s6 = _mm256_shuffle_ps::<0x44>(t5, t7);
        let s7 = _mm256_shuffle_ps::<0xEE>(t5, t7);
        [
            _mm256_permute2f128_ps::<0x20>(s0, s4),
            _mm256_permute2f128_ps::<0x20>(s1, s5),
            _mm256_permute2f128_ps::<0x20>(s2, s6),
            _mm256_permute2f128_ps::<0x20>(s3, s7),
            _mm256_permute2f128_ps::<0x31>(s0, s4),
            _mm256_permute2f128_ps::<0x31>(s1, s5),
            _mm256_permute2f128_ps::<0x31>(s2, s6),
            _mm256_permute2f128_ps::<0x31>(s3, s7),
        ]
    }
}

/// `c (+)= left · right` for one packed `mc × kc` left block and `kc × nc` right block: the
/// micro-kernel on every tile, through a local tile where the block's edge cuts it.
///
/// # Safety
/// The packed blocks must be as [`pack_left`] and [`pack_right`] leave them (32-byte aligned
/// panels) and the `mc × nc` block of `c` in bounds and unaliased.
#[allow(clippy::too_many_arguments)]
#[inline(never)]
unsafe fn block(
    mc: usize,
    nc: usize,
    kc: usize,
    left: *const f32,
    right: *const f32,
    c: *mut f32,
    rsc: usize,
    store: Store,
) {
    for j in (0..nc).step_by(NR) {
        // SAFETY: a bias holds the block's `nc` columns.
        let store = unsafe { store.shifted(j) };
        let cols = NR.min(nc - j);
        for i in (0..mc).step_by(MR) {
            let rows = MR.min(mc - i);
            // SAFETY: panel `i / MR` of the left block and `j / NR` of the right one exist;
            // the tile of `c` is in bounds (whole) or written element by element (cut).
            unsafe {
                let a = left.add(i * kc);
                let b = right.add(j * kc);
                let tile = c.add(i * rsc + j);
                if rows == MR && cols == NR {
                    micro_kernel(kc, a, b, tile, rsc, store);
                } else {
                    let mut local = [0.0f32; MR * NR];
                    let plain = Store {
                        add: false,
                        bias: std::ptr::null(),
                        relu: false,
                    };
                    micro_kernel(kc, a, b, local.as_mut_ptr(), NR, plain);
                    for r in 0..rows {
                        for col in 0..cols {
                            let out = tile.add(r * rsc + col);
                            *out = store.scalar(*out, local[r * NR + col], col);
                        }
                    }
                }
            }
        }
    }
}

/// The `6 × 16` tile `a · b` over depth `kc`, stored into `c` as `store` says; `a` a packed
/// left panel and `b` a packed right panel (32-byte aligned).
///
/// # Safety
/// AVX2 and FMA must be present; the panels must hold `kc` steps, the tile (6 rows of 16
/// values, rows `rsc` apart) be in bounds and unaliased, and a bias hold 16 values.
#[target_feature(enable = "avx2,fma")]
unsafe fn micro_kernel(
    kc: usize,
    mut a: *const f32,
    mut b: *const f32,
    c: *mut f32,
    rsc: usize,
    store: Store,
) {
    let mut acc = [[_mm256_setzero_ps(); 2]; MR];
    // SAFETY (whole body): reads stay inside the two panels (`kc` steps of MR and NR values),
    // prefetches may point past them (they never fault), and writes stay inside the tile.
    unsafe {
        for r in 0..MR {
            _mm_prefetch::<_MM_HINT_T0>(c.add(r * rsc).cast());
            _mm_prefetch::<_MM_HINT_T0>(c.add(r * rsc + NR - 1).cast());
        }
        macro_rules! step {
            () => {{
                let b0 = _mm256_load_ps(b);
                let b1 = _mm256_load_ps(b.add(8));
                for (r, row) in acc.iter_mut().enumerate() {
                    let x = _mm256_broadcast_ss(&*a.add(r));
                    row[0] = _mm256_fmadd_ps(x, b0, row[0]);
                    row[1] = _mm256_fmadd_ps(x, b1, row[1]);
                }
                a = a.add(MR);
                b = b.add(NR);
            }};
        }
        let mut left = kc;
        while left >= 4 {
            // The left panel streams from L2: ask for it ~10 steps ahead.
            _mm_prefetch::<_MM_HINT_T0>(a.add(64).cast());
            step!();
            step!();
            step!();
            step!();
            left -= 4;
        }
        for _ in 0..left {
            step!();
        }
        let (start0, start1) = if store.bias.is_null() {
            (_mm256_setzero_ps(), _mm256_setzero_ps())
        } else {
            (
                _mm256_loadu_ps(store.bias),
                _mm256_loadu_ps(store.bias.add(8)),
            )
        };
        for (r, row) in acc.iter().enumerate() {
            let out = c.add(r * rsc);
            let (mut v0, mut v1) = if store.add {
                (
                    _mm256_add_ps(_mm256_loadu_ps(out), row[0]),
                    _mm256_add_ps(_mm256_loadu_ps(out.add(8)), row[1]),
                )
            } else {
                (_mm256_add_ps(start0, row[0]), _mm256_add_ps(start1, row[1]))
            };
            if store.relu {
                // `max_ps` returns its second operand when either is NaN: a NaN stays NaN.
                v0 = _mm256_max_ps(_mm256_setzero_ps(), v0);
                v1 = _mm256_max_ps(_mm256_setzero_ps(), v1);
            }
            _mm256_storeu_ps(out, v0);
            _mm256_storeu_ps(out.add(8), v1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{pack, preferred, sgemm, Start, Strided, KC, MC, MR, NC, NR};

    /// Quarters in [-4, 4]: every product and sum below is exact in `f32`.
    fn values(len: usize, seed: f32) -> Vec<f32> {
        (0..len)
            .map(|i| ((i as f32 * seed).sin() * 16.0).round() / 4.0)
            .collect()
    }

    /// How the output starts in [`matches_the_definition`].
    #[derive(Clone, Copy, Debug)]
    enum From {
        Zero,
        Itself,
        Bias,
    }

    /// `c = start + a · b` (ReLU'd with `relu`) by the kernel and by the definition, for `a`
    /// and `b` stored plain or transposed, `c` inside a wider buffer (row stride `n + 3`, the
    /// pad untouched); on the calling thread alone, and shared by two and by three threads.
    fn matches_the_definition(m: usize, n: usize, k: usize, from: From, relu: bool) {
        if !preferred() {
            eprintln!("skipped: this CPU does not take the AVX2 kernel");
            return;
        }
        for threads in [1, 2, 3] {
            crate::kernels::in_pool(3, || {
                matches_the_definition_on(m, n, k, from, relu, threads)
            });
        }
    }

    fn matches_the_definition_on(
        m: usize,
        n: usize,
        k: usize,
        from: From,
        relu: bool,
        threads: usize,
    ) {
        let a = values(m * k, 0.37);
        let b = values(k * n, 0.71);
        let bias = values(n, 0.53);
        let ldc = n + 3;
        let before = values(m * ldc, 0.13);
        for (a_t, b_t) in [(false, false), (true, false), (false, true), (true, true)] {
            // Plain: row-major `m × k`; transposed: the same values stored as `k × m`.
            let (a_rows, a_cols) = if a_t { (1, m) } else { (k, 1) };
            let (b_rows, b_cols) = if b_t { (1, k) } else { (n, 1) };
            let a_op = Strided {
                ptr: a.as_ptr(),
                row_stride: a_rows,
                col_stride: a_cols,
            };
            let b_op = Strided {
                ptr: b.as_ptr(),
                row_stride: b_rows,
                col_stride: b_cols,
            };
            let start = match from {
                From::Zero => Start::Zero,
                From::Itself => Start::Accumulate,
                From::Bias => Start::Bias(&bias),
            };
            let mut c = before.clone();
            // SAFETY: the test machine takes the kernel (checked above); every operand is
            // exactly as large as its dimensions and strides address, `c` is its own buffer.
            unsafe {
                sgemm(
                    m,
                    n,
                    k,
                    a_op,
                    b_op,
                    c.as_mut_ptr(),
                    ldc,
                    start,
                    relu,
                    threads,
                )
            };
            for i in 0..m {
                for j in 0..ldc {
                    let got = c[i * ldc + j];
                    if j >= n {
                        assert_eq!(got, before[i * ldc + j], "pad ({i}, {j}) was written");
                        continue;
                    }
                    // SAFETY: (i, p) and (p, j) are inside the operands.
                    let dot: f32 = (0..k)
                        .map(|p| unsafe { *a_op.at(i, p) * *b_op.at(p, j) })
                        .sum();
                    let first = match from {
                        From::Zero => 0.0,
                        From::Itself => before[i * ldc + j],
                        From::Bias => bias[j],
                    };
                    let want = if relu {
                        (first + dot).max(0.0)
                    } else {
                        first + dot
                    };
                    assert_eq!(
                        got, want,
                        "({i}, {j}) of {m}×{k}·{k}×{n}, transposes {a_t} {b_t}, {from:?}, relu {relu}, {threads} threads"
                    );
                }
            }
        }
    }

    /// Packs `lines` contiguous lines of `depth` values (each `depth + 5` apart) into panels of
    /// `W` and checks every packed value and the zero padding, and that nothing past the panels
    /// was written.
    fn contiguous_lines_pack_as_the_definition<const W: usize>(lines: usize, depth: usize) {
        let stride = depth + 5;
        let src = values(lines * stride, 0.29);
        let size = lines.next_multiple_of(W) * depth;
        let mut dst = vec![f32::NAN; size + 16];
        // SAFETY: this CPU takes the kernel (checked by the caller); line `l`, step `p` is at
        // `l * stride + p < lines * stride`; `dst` holds the panels and more.
        unsafe { pack::<W>(lines, depth, src.as_ptr(), stride, 1, dst.as_mut_ptr()) };
        for l in 0..lines.next_multiple_of(W) {
            for p in 0..depth {
                let want = if l < lines { src[l * stride + p] } else { 0.0 };
                let got = dst[l / W * W * depth + p * W + l % W];
                assert_eq!(got, want, "line {l}, step {p} of {lines} × {depth}, W {W}");
            }
        }
        assert!(
            dst[size..].iter().all(|v| v.is_nan()),
            "written past the panels"
        );
    }

    #[test]
    fn contiguous_lines_are_packed_by_transposing_blocks_with_the_same_values() {
        if !preferred() {
            eprintln!("skipped: this CPU does not take the AVX2 kernel");
            return;
        }
        for depth in [0, 1, 7, 8, 9, 16, 23, 40] {
            for lines in [1, MR - 1, MR, 2 * MR + 1, 3 * MR] {
                contiguous_lines_pack_as_the_definition::<MR>(lines, depth);
            }
            for lines in [1, 9, NR, 2 * NR + 3] {
                contiguous_lines_pack_as_the_definition::<NR>(lines, depth);
            }
        }
    }

    #[test]
    fn whole_tiles_match_the_definition() {
        matches_the_definition(2 * MR, 2 * NR, 40, From::Itself, false);
        matches_the_definition(2 * MR, 2 * NR, 40, From::Zero, false);
    }

    #[test]
    fn cut_tiles_at_every_edge_match_the_definition() {
        matches_the_definition(MR + 1, NR + 5, 9, From::Itself, false);
        matches_the_definition(1, 1, 1, From::Zero, false);
        matches_the_definition(5, 3, 2, From::Zero, false);
    }

    #[test]
    fn blocks_deeper_taller_and_wider_than_one_pack_match_the_definition() {
        matches_the_definition(MC + 7, 2 * NR + 3, KC + 13, From::Zero, false);
        matches_the_definition(MC + 7, 2 * NR + 3, KC + 13, From::Itself, false);
        matches_the_definition(3, NC + 21, 2, From::Itself, false);
    }

    #[test]
    fn the_bias_is_added_once_and_the_relu_applied_after_the_last_depth_block() {
        // One depth block, several (the bias must not be added per block, the ReLU not
        // applied before the sum is complete), cut tiles, and more than NC columns.
        for k in [7, 2 * KC + 5] {
            matches_the_definition(2 * MR + 1, 2 * NR + 3, k, From::Bias, true);
            matches_the_definition(2 * MR + 1, 2 * NR + 3, k, From::Bias, false);
            matches_the_definition(2 * MR + 1, 2 * NR + 3, k, From::Itself, true);
        }
        matches_the_definition(2, NC + 21, 3, From::Bias, true);
    }

    #[test]
    fn an_empty_depth_leaves_the_start_relud() {
        for from in [From::Zero, From::Itself, From::Bias] {
            matches_the_definition(4, 20, 0, from, false);
            matches_the_definition(4, 20, 0, from, true);
        }
    }
}
