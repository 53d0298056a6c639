//! `Dense` on `Cpu`: in `f32` one fused op on the tape, in `f64` dfdx's ops. The fused forward is
//! one product with the bias and the ReLU folded into its stores ([`matmul_bias`]); the backward
//! masks the upstream gradient with the ReLU, then runs the two products `xᵀ · g` and
//! `g · kernelᵀ` and the bias column sums, accumulating into dfdx's gradients as its own ops do.

use dfdx::shapes::{Const, Dim, HasShape, Rank1};
use dfdx::tensor::{Cpu, CpuError, Gradients, PutTape, SplitTape, Tape, Tensor, ZerosTensor};

use super::data_input::is_data_input;
use super::with_ops::dense_kernel_with_ops;
use super::{dense_with_ops, DenseKernel, Epilogue};
use crate::kernels::cpu_view::{contiguous, contiguous_mut, read};
use crate::kernels::gemm_f32::{matmul, matmul_bias, MatRef};

dense_kernel_with_ops!(Cpu: f64);

/// The fused op (`gemm` 0.19 kernels chosen at run time: AVX-512 where the CPU has it, AVX2/FMA
/// or scalar otherwise). No input gradient for a batch marked with
/// [`mark_data_input`](crate::kernels::mark_data_input). Broadcast or permuted operands and empty
/// batches go to [`dense_with_ops`].
impl DenseKernel<f32> for Cpu {
    fn try_dense<B, I, const O: usize, T>(
        x: Tensor<(B, I), f32, Self, T>,
        kernel: &Tensor<(I, Const<O>), f32, Self>,
        bias: &Tensor<Rank1<O>, f32, Self>,
        epilogue: Epilogue,
    ) -> Result<Tensor<(B, Const<O>), f32, Self, T>, CpuError>
    where
        B: Dim,
        I: Dim,
        T: Tape<f32, Self>,
    {
        let shape = (x.shape().0, Const::<O>);
        // The output comes from dfdx's allocator, so its cache (when enabled) stays balanced.
        let mut out: Tensor<(B, Const<O>), f32, Cpu> = x.device().try_zeros_like(&shape)?;
        let inner = kernel.shape().0.size();
        let fused = match (
            contiguous(&x).filter(|_| x.shape().1.size() == inner),
            contiguous(kernel),
            contiguous(bias),
            contiguous_mut(&mut out),
        ) {
            (Some(xs), Some(ws), Some(bs), Some(ys)) => {
                forward::<O>(ys, xs, ws, bs, inner, epilogue)?;
                true
            }
            // Broadcast or permuted operands, an empty batch, or inner widths that differ at
            // run time: dfdx's ops handle strides (and report the mismatch).
            _ => false,
        };
        if !fused {
            return dense_with_ops(x, kernel, bias, epilogue);
        }
        let (x, mut tape) = x.split_tape();
        if T::OWNS_TAPE {
            let saved = Saved {
                x,
                kernel: kernel.clone(),
                bias: bias.clone(),
                out: out.clone(),
                epilogue,
            };
            tape.add_backward_op(move |grads: &mut Gradients<f32, Cpu>| saved.backward(grads));
        }
        Ok(out.put_tape(tape))
    }
}

/// `y = epilogue(x · w + b)`, all row-major, `y` being `n × O` for `n = y.len() / O` and `x`
/// being `n × inner`.
fn forward<const O: usize>(
    y: &mut [f32],
    x: &[f32],
    w: &[f32],
    b: &[f32],
    inner: usize,
    epilogue: Epilogue,
) -> Result<(), CpuError> {
    let n = y.len() / O;
    let relu = epilogue == Epilogue::BiasRelu;
    matmul_bias(y, rows(x, n, inner)?, rows(w, inner, O)?, b, relu).map_err(shape_bug)
}

thread_local! {
    /// The ReLU-masked upstream gradient of the backward running on this thread, and the
    /// per-thread partial bias sums.
    static MASKED: std::cell::Cell<(Vec<f32>, Vec<f32>)> =
        const { std::cell::Cell::new((Vec::new(), Vec::new())) };
}

/// Below this many gradient values, the mask and the bias sums run on the calling thread.
const PARALLEL_MIN_VALUES: usize = 1 << 15;

/// Adds the column sums of the upstream gradient `g_out` (`rows × cols`, row-major) to
/// `grad_bias`, masked by the ReLU of the output `y` when given (the masked gradient is then
/// written to `masked` and returned); one pass, split by rows across rayon's threads.
fn mask_and_sum<'g>(
    g_out: &'g [f32],
    y: Option<&[f32]>,
    cols: usize,
    masked: &'g mut Vec<f32>,
    partial: &mut Vec<f32>,
    grad_bias: &mut [f32],
) -> &'g [f32] {
    use rayon::prelude::*;
    let rows = g_out.len() / cols;
    let threads = rayon::current_num_threads();
    let chunks = if g_out.len() >= PARALLEL_MIN_VALUES {
        threads.min(rows).max(1)
    } else {
        1
    };
    let rows_per = rows.div_ceil(chunks).max(1);
    partial.clear();
    partial.resize(chunks * cols, 0.0);
    // Every chunk of rows: mask it (if ReLU) and sum its columns into its own partial row.
    let sum_rows = |g: &[f32], sums: &mut [f32]| {
        for row in g.chunks_exact(cols) {
            sums.iter_mut().zip(row).for_each(|(s, v)| *s += v);
        }
    };
    let out: &[f32] = match y {
        Some(y) => {
            // Every value is written below: only a new length costs a fill.
            masked.resize(g_out.len(), 0.0);
            masked
                .par_chunks_mut(rows_per * cols)
                .zip(g_out.par_chunks(rows_per * cols))
                .zip(y.par_chunks(rows_per * cols))
                .zip(partial.par_chunks_mut(cols))
                .for_each(|(((m, g), y), sums)| {
                    for ((m, &g), &y) in m.iter_mut().zip(g).zip(y) {
                        *m = if y > 0.0 { g } else { 0.0 };
                    }
                    sum_rows(m, sums);
                });
            masked
        }
        None => {
            g_out
                .par_chunks(rows_per * cols)
                .zip(partial.par_chunks_mut(cols))
                .for_each(|(g, sums)| sum_rows(g, sums));
            g_out
        }
    };
    for sums in partial.chunks_exact(cols) {
        grad_bias.iter_mut().zip(sums).for_each(|(b, s)| *b += s);
    }
    out
}

/// What the backward needs, kept alive by the tape.
struct Saved<B: Dim, I: Dim, const O: usize> {
    x: Tensor<(B, I), f32, Cpu>,
    kernel: Tensor<(I, Const<O>), f32, Cpu>,
    bias: Tensor<Rank1<O>, f32, Cpu>,
    out: Tensor<(B, Const<O>), f32, Cpu>,
    epilogue: Epilogue,
}

impl<B: Dim, I: Dim, const O: usize> Saved<B, I, O> {
    /// Accumulates the kernel, bias and (unless `x` is the data batch) input gradients.
    fn backward(self, grads: &mut Gradients<f32, Cpu>) -> Result<(), CpuError> {
        // The data batch (marked in the gradients its tape carries) gets no gradient.
        let need_dx = !is_data_input(grads, &self.x);
        let n = self.x.shape().0.size();
        let inner = self.kernel.shape().0.size();
        // Borrow the output's gradient by moving it out, so the others can be borrowed mutably.
        let g_out = std::mem::take(&mut **grads.get_or_alloc_mut(&self.out)?);
        // The ReLU-masked gradient goes to a buffer reused across steps (the output's own
        // gradient stays as dfdx's relu leaves it, for anyone reading it from leaky gradients);
        // the bias gradient is summed in the same pass.
        let (mut masked, mut partial) = MASKED.take();
        let y = read(&self.out);
        let relu = (self.epilogue == Epilogue::BiasRelu).then_some(&*y);
        let g = mask_and_sum(
            &g_out,
            relu,
            O,
            &mut masked,
            &mut partial,
            grads.get_or_alloc_mut(&self.bias)?,
        );
        let g_rows = rows(g, n, O)?;
        let x = read(&self.x);
        matmul(
            grads.get_or_alloc_mut(&self.kernel)?,
            rows(&x, n, inner)?.t(),
            g_rows,
            true,
        )
        .map_err(shape_bug)?;
        if need_dx {
            let w = read(&self.kernel);
            matmul(
                grads.get_or_alloc_mut(&self.x)?,
                g_rows,
                rows(&w, inner, O)?.t(),
                true,
            )
            .map_err(shape_bug)?;
        }
        **grads.get_or_alloc_mut(&self.out)? = g_out;
        MASKED.set((masked, partial));
        Ok(())
    }
}

/// A row-major view; the lengths always match here, by the tensors' shapes.
fn rows(data: &[f32], rows: usize, cols: usize) -> Result<MatRef<'_>, CpuError> {
    MatRef::row_major(data, rows, cols).map_err(shape_bug)
}

/// Maps an impossible shape error (the types fix every dimension) to dfdx's error.
fn shape_bug(_: crate::Error) -> CpuError {
    CpuError::WrongNumElements
}

#[cfg(test)]
mod tests {
    use crate::kernels::{dense_with_ops, mark_data_input, try_dense, Epilogue};
    use dfdx::prelude::*;

    type X<const I: usize> = Tensor<(usize, Const<I>), f32, Cpu>;

    /// Values in [-1, 1) with exact zeros sprinkled in (ReLU's kink).
    fn values(len: usize, seed: u64) -> Vec<f32> {
        (0..len as u64)
            .map(|i| {
                let h = (i + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed;
                let v = ((h >> 40) as f32) / (1u64 << 24) as f32 * 2.0 - 1.0;
                if h.is_multiple_of(7) {
                    0.0
                } else {
                    v
                }
            })
            .collect()
    }

    /// Output, then input, kernel and bias gradients of `sum(r * dense(x))`, fused or with ops.
    fn run(fused: bool, epilogue: Epilogue, mark: bool) -> [Vec<f32>; 4] {
        run_rows(9, fused, epilogue, mark)
    }

    /// [`run`] on a batch of `n` rows.
    fn run_rows(n: usize, fused: bool, epilogue: Epilogue, mark: bool) -> [Vec<f32>; 4] {
        const I: usize = 13;
        const O: usize = 11;
        let dev = Cpu::default();
        let x: X<I> = dev.tensor_from_vec(values(n * I, 1), (n, Const));
        let kernel: Tensor<Rank2<I, O>, f32, _> =
            dev.tensor_from_vec(values(I * O, 2), (Const, Const));
        let bias: Tensor<Rank1<O>, f32, _> = dev.tensor_from_vec(values(O, 3), (Const,));
        let r: X<O> = dev.tensor_from_vec(values(n * O, 4), (n, Const));
        let mut grads = Gradients::leaky();
        if mark {
            mark_data_input(&mut grads, &x);
        }
        let taped = x.trace(grads);
        let y = if fused {
            try_dense(taped, &kernel, &bias, epilogue).unwrap()
        } else {
            dense_with_ops(taped, &kernel, &bias, epilogue).unwrap()
        };
        let out = y.retaped::<NoneTape>().as_vec();
        let mut grads = (y * r).sum().backward();
        let gx = grads.get_or_alloc_mut(&x).unwrap().to_vec();
        [
            out,
            gx,
            grads.get(&kernel).as_vec(),
            grads.get(&bias).as_vec(),
        ]
    }

    fn assert_close(a: &[f32], b: &[f32]) {
        assert_close_within(a, b, 1e-5);
    }

    fn assert_close_within(a: &[f32], b: &[f32], tolerance: f32) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= tolerance * (1.0 + y.abs()), "{x} vs {y}");
        }
    }

    #[test]
    fn fused_dense_matches_dfdx_ops_in_value_and_every_gradient() {
        for epilogue in [Epilogue::Bias, Epilogue::BiasRelu] {
            let fused = run(true, epilogue, false);
            let ops = run(false, epilogue, false);
            for (f, o) in fused.iter().zip(&ops) {
                assert_close(f, o);
            }
            assert!(fused[1].iter().any(|g| *g != 0.0));
        }
    }

    #[test]
    fn large_batches_split_the_mask_and_bias_sums_across_threads_with_the_same_gradients() {
        // 4000 rows × 11 outputs is above PARALLEL_MIN_VALUES: four row chunks in the pool.
        const { assert!(4000 * 11 >= super::PARALLEL_MIN_VALUES) };
        crate::kernels::in_pool(4, || {
            for epilogue in [Epilogue::Bias, Epilogue::BiasRelu] {
                let fused = run_rows(4000, true, epilogue, false);
                let ops = run_rows(4000, false, epilogue, false);
                for (f, o) in fused.iter().zip(&ops) {
                    // Sums over 4000 rows, in other orders than dfdx's.
                    assert_close_within(f, o, 1e-3);
                }
            }
        });
    }

    #[test]
    fn relu_epilogue_zeroes_negative_outputs_and_their_gradients() {
        let [out, ..] = run(true, Epilogue::BiasRelu, false);
        let [lin, ..] = run(true, Epilogue::Bias, false);
        assert!(lin.iter().any(|v| *v < 0.0));
        for (o, l) in out.iter().zip(&lin) {
            assert_eq!(*o, l.max(0.0));
        }
    }

    #[test]
    fn a_marked_data_input_gets_no_gradient_but_the_weights_do() {
        let marked = run(true, Epilogue::BiasRelu, true);
        let plain = run(true, Epilogue::BiasRelu, false);
        assert!(marked[1].iter().all(|g| *g == 0.0));
        assert!(plain[1].iter().any(|g| *g != 0.0));
        assert_eq!(marked[0], plain[0]);
        assert_eq!(marked[2], plain[2]);
        assert_eq!(marked[3], plain[3]);
    }

    /// First kernel's and input's gradients of `sum(r * dense2(dense1(x)))`, the batch marked
    /// as data while the forward runs when `mark`; then the same product on the same batch once
    /// the mark is dropped, whose input gradient is returned third.
    fn two_layers(mark: bool) -> [Vec<f32>; 3] {
        const I: usize = 6;
        const H: usize = 5;
        const O: usize = 4;
        let n = 7;
        let dev = Cpu::default();
        let x: X<I> = dev.tensor_from_vec(values(n * I, 5), (n, Const));
        let k1: Tensor<Rank2<I, H>, f32, _> = dev.tensor_from_vec(values(I * H, 6), (Const, Const));
        let b1: Tensor<Rank1<H>, f32, _> = dev.tensor_from_vec(values(H, 7), (Const,));
        let k2: Tensor<Rank2<H, O>, f32, _> = dev.tensor_from_vec(values(H * O, 8), (Const, Const));
        let b2: Tensor<Rank1<O>, f32, _> = dev.tensor_from_vec(values(O, 9), (Const,));
        let r: X<O> = dev.tensor_from_vec(values(n * O, 10), (n, Const));
        let mut grads = Gradients::leaky();
        if mark {
            mark_data_input(&mut grads, &x);
        }
        let taped = x.trace(grads);
        let h = try_dense(taped, &k1, &b1, Epilogue::BiasRelu).unwrap();
        let y = try_dense(h, &k2, &b2, Epilogue::Bias).unwrap();
        let mut grads = (y * r.clone()).sum().backward();
        let gk1 = grads.get(&k1).as_vec();
        let gx = grads.get_or_alloc_mut(&x).unwrap().to_vec();
        let y = try_dense(x.leaky_trace(), &k1, &b1, Epilogue::Bias).unwrap();
        let mut later = y.sum().backward();
        [gk1, gx, later.get_or_alloc_mut(&x).unwrap().to_vec()]
    }

    #[test]
    fn only_the_marked_batch_is_data_and_only_on_the_gradients_that_carry_the_mark() {
        let marked = two_layers(true);
        let plain = two_layers(false);
        // The second layer's input is computed from the batch, not the batch: its gradient still
        // reaches the first layer's kernel.
        assert!(plain[0].iter().any(|g| *g != 0.0));
        assert_eq!(marked[0], plain[0]);
        assert!(marked[1].iter().all(|g| *g == 0.0));
        assert!(plain[1].iter().any(|g| *g != 0.0));
        // A later tape, on gradients without the mark, computes the batch's gradient again.
        assert!(marked[2].iter().any(|g| *g != 0.0));
        assert_eq!(marked[2], plain[2]);
    }

    #[test]
    fn fused_dense_runs_without_a_tape_and_on_empty_batches() {
        let dev = Cpu::default();
        let kernel: Tensor<Rank2<2, 1>, f32, _> = dev.tensor([[1.0], [2.0]]);
        let bias: Tensor<Rank1<1>, f32, _> = dev.tensor([0.5]);
        let x: X<2> = dev.tensor_from_vec(vec![1.0, 1.0], (1, Const));
        let y = try_dense(x, &kernel, &bias, Epilogue::Bias).unwrap();
        assert_eq!(y.as_vec(), vec![3.5]);
        let empty: X<2> = dev.zeros_like(&(0, Const));
        let y = try_dense(empty, &kernel, &bias, Epilogue::BiasRelu).unwrap();
        assert_eq!(y.shape().0, 0);
    }
}
