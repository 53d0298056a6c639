//! The fused `Conv2D`, `MaxPooling2D` and `AveragePooling2D` ops' `Cuda` plans (`launch.rs`)
//! run on the CPU: `conv.cu`'s and `dense.cu`'s kernels by the emulation, cuBLAS's products by
//! `reference_sgemm` (BLAS's definition of `sgemm`), against the CPU's fused ops (`Cpu`,
//! `f32`): the output and every gradient, which the plans add to gradients that already hold
//! values.

use dfdx::prelude::*;

use super::geometry::Geometry;
use super::launch::{self, ConvBackwardBuffers, ConvDims, WindowArgs, COL2IM, IM2COL, NAMES};
use super::pooling::Pooling;
use super::ConvKernel;
use crate::kernels::dense::launch::{BIAS, BIAS_GRAD, SUM_CHUNKS};
use crate::kernels::emulation::blas::reference_sgemm;
use crate::kernels::emulation::samples::{assert_close, Samples};
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::{mark_data_input, Epilogue};

/// Values the gradients hold before the backward (the plans add to them) and the temporaries
/// hold before they are written.
const BEFORE: f32 = 0.25;
const GARBAGE: f32 = 1.0e30;

/// One run of the convolution.
#[derive(Debug, Clone, Copy)]
struct Case {
    images: usize,
    relu: bool,
    /// The batch is marked as data: no input gradient.
    data: bool,
    /// One input value is NaN.
    nan: bool,
}

/// The output, then the input, kernel and bias gradients.
type Results = [Vec<f32>; 4];

/// The inputs of a case: images, kernel, bias, the output's gradient.
fn conv_inputs(g: &Geometry, out: usize, case: Case) -> [Vec<f32>; 4] {
    let mut s = Samples::new((g.h * 131 + g.w * 31 + g.k * 7 + g.s * 3 + g.p + out) as u64);
    let mut x = s.between(case.images * g.image_len(), -1.0, 1.0);
    if case.nan {
        x[case.images * g.image_len() / 2] = f32::NAN;
    }
    [
        x,
        s.between(g.window_len() * out, -0.5, 0.5),
        s.between(out, -0.5, 0.5),
        s.between(case.images * g.out_pixels() * out, -1.0, 1.0),
    ]
}

/// The CPU's fused convolution: `y` and the gradients of `sum(y * r)`, from zero.
fn conv_on_cpu<
    const H: usize,
    const W: usize,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    case: Case,
) -> Results {
    let g = Geometry::of::<H, W, IN, K, S, P, OH, OW>();
    let [x, k, b, r] = conv_inputs(&g, OUT, case);
    let dev = Cpu::default();
    let n = case.images;
    let x: Tensor<(usize, Const<H>, Const<W>, Const<IN>), f32, _> =
        dev.tensor_from_vec(x, (n, Const, Const, Const));
    let kernel: Tensor<Rank4<K, K, IN, OUT>, f32, _> =
        dev.tensor_from_vec(k, (Const, Const, Const, Const));
    let bias: Tensor<Rank1<OUT>, f32, _> = dev.tensor_from_vec(b, (Const,));
    let r: Tensor<(usize, Const<OH>, Const<OW>, Const<OUT>), f32, _> =
        dev.tensor_from_vec(r, (n, Const, Const, Const));
    let epilogue = match case.relu {
        true => Epilogue::BiasRelu,
        false => Epilogue::Bias,
    };
    let mut grads = Gradients::leaky();
    if case.data {
        mark_data_input(&mut grads, &x);
    }
    let taped = x.trace(grads);
    let y =
        Cpu::try_conv2d::<_, H, W, IN, OUT, K, S, P, OH, OW, _>(taped, &kernel, &bias, epilogue)
            .unwrap();
    let out = y.retaped::<NoneTape>().as_vec();
    let mut grads = (y * r).sum().backward();
    [
        out,
        grads.get_or_alloc_mut(&x).unwrap().to_vec(),
        grads.get(&kernel).as_vec(),
        grads.get(&bias).as_vec(),
    ]
}

/// The `Cuda` plans, emulated, with chunks of as many images as `budget` floats of windows
/// hold: the output and the gradients the backward added to [`BEFORE`].
fn conv_emulated(g: &Geometry, out: usize, case: Case, budget: usize) -> Results {
    let [x, k, b, r] = conv_inputs(g, out, case);
    let dims = ConvDims::with_budget(g, case.images, out, budget).unwrap();
    let mut columns = vec![GARBAGE; dims.columns_len()];
    let mut y = vec![GARBAGE; case.images * g.out_pixels() * out];
    let plans = launch::forward(
        dims,
        case.relu,
        address(&x),
        address(&k),
        address(&b),
        columns.as_mut_ptr() as u64,
        y.as_mut_ptr() as u64,
    );
    let mut chunks = 0;
    for plan in plans {
        chunks += 1;
        assert_eq!(plan.im2col.is_none(), dims.pointwise());
        // SAFETY: im2col reads the chunk's images in `x` and writes `columns`, the product reads
        // those (or `x`) and `k` and writes the chunk's rows of `y`, the bias kernel reads `b`
        // and rewrites them, each as long as `dims` says.
        unsafe {
            if let Some((shape, params)) = plan.im2col {
                launch(IM2COL, shape, &params).unwrap();
            }
            reference_sgemm(&plan.dense.product);
            launch(BIAS, plan.dense.bias.0, &plan.dense.bias.1).unwrap();
        }
    }
    assert_eq!(chunks, case.images.div_ceil(dims.chunk));
    let x_before = x.clone();
    let mut masked = vec![GARBAGE; dims.chunk_out_len()];
    let mut sums = vec![GARBAGE; dims.scratch_len()];
    let mut columns = vec![GARBAGE; dims.columns_len()];
    let mut grad_columns = vec![GARBAGE; dims.columns_len()];
    let mut gx = vec![BEFORE; x.len()];
    let mut gk = vec![BEFORE; k.len()];
    let mut gb = vec![BEFORE; out];
    let plans = launch::backward(
        dims,
        ConvBackwardBuffers {
            x: address(&x),
            kernel: address(&k),
            relu_out: case.relu.then(|| address(&y)),
            masked: masked.as_mut_ptr() as u64,
            grad_out: address(&r),
            scratch: sums.as_mut_ptr() as u64,
            columns: columns.as_mut_ptr() as u64,
            grad_columns: grad_columns.as_mut_ptr() as u64,
            grad_kernel: gk.as_mut_ptr() as u64,
            grad_bias: gb.as_mut_ptr() as u64,
            grad_input: (!case.data).then_some(gx.as_mut_ptr() as u64),
        },
    );
    for plan in plans {
        assert_eq!(plan.col2im.is_some(), !case.data && !dims.pointwise());
        // SAFETY: every address is one of the buffers above or a chunk's part of one, as long
        // as `dims` says; `x`, `k`, `y` and `r` are only read.
        unsafe {
            if let Some((shape, params)) = plan.im2col {
                launch(IM2COL, shape, &params).unwrap();
            }
            launch(BIAS_GRAD, plan.dense.bias_grad.0, &plan.dense.bias_grad.1).unwrap();
            if let Some((shape, params)) = plan.dense.sum_chunks {
                launch(SUM_CHUNKS, shape, &params).unwrap();
            }
            reference_sgemm(&plan.dense.grad_kernel);
            if let Some(grad_input) = plan.dense.grad_input {
                reference_sgemm(&grad_input);
            }
            if let Some((shape, params)) = plan.col2im {
                launch(COL2IM, shape, &params).unwrap();
            }
        }
    }
    assert!(
        x.iter()
            .zip(&x_before)
            .all(|(a, b)| a == b || (a.is_nan() && b.is_nan())),
        "the images are read only"
    );
    let added = |g: Vec<f32>| g.into_iter().map(|v| v - BEFORE).collect::<Vec<_>>();
    [y, added(gx), added(gk), added(gb)]
}

/// The emulated plans agree with the CPU's fused convolution in every form (ReLU or not, the
/// data batch or not, a NaN input or not) on `images` images.
fn each_conv_form<
    const H: usize,
    const W: usize,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    images: usize,
) {
    each_conv_form_in_chunks::<H, W, IN, OUT, K, S, P, OH, OW>(images, usize::MAX);
}

/// [`each_conv_form`] with chunks of as many images as `budget` floats of windows hold.
fn each_conv_form_in_chunks<
    const H: usize,
    const W: usize,
    const IN: usize,
    const OUT: usize,
    const K: usize,
    const S: usize,
    const P: usize,
    const OH: usize,
    const OW: usize,
>(
    images: usize,
    budget: usize,
) {
    let g = Geometry::of::<H, W, IN, K, S, P, OH, OW>();
    assert_eq!((OH, OW), ((H + 2 * P - K) / S + 1, (W + 2 * P - K) / S + 1));
    for relu in [false, true] {
        for data in [false, true] {
            for nan in [false, true] {
                let case = Case {
                    images,
                    relu,
                    data,
                    nan,
                };
                let cpu = conv_on_cpu::<H, W, IN, OUT, K, S, P, OH, OW>(case);
                let emulated = conv_emulated(&g, OUT, case, budget);
                // Sums in other orders than the CPU's products (the reference sums in `f64`):
                // the rounding grows with the rows the kernel's and bias's gradients sum.
                let rows = images * OH * OW;
                let tolerance = 1e-5 * (rows as f32 / 100.0).max(1.0);
                for (what, (got, want)) in [
                    "output",
                    "input gradient",
                    "kernel gradient",
                    "bias gradient",
                ]
                .iter()
                .zip(emulated.iter().zip(&cpu))
                {
                    assert_close(&format!("{g:?}, {case:?}: {what}"), got, want, tolerance);
                }
                if data {
                    assert!(emulated[1].iter().all(|&v| v == 0.0), "the batch is data");
                } else {
                    // Not a vacuous comparison: the input gets a gradient.
                    assert!(cpu[1].iter().any(|&v| v != 0.0 && !v.is_nan()));
                }
                assert!(cpu[2].iter().any(|&v| v != 0.0));
            }
        }
    }
}

#[test]
fn the_emulated_cuda_convolution_matches_the_cpu_fused_op_in_value_and_every_gradient() {
    // Keras's "same" 3x3: windows hanging over the padding on every side.
    each_conv_form::<5, 5, 2, 7, 3, 1, 1, 5, 5>(2);
    // Stride 2 with padding, ragged: the last row and column of the image read by no window.
    each_conv_form::<7, 6, 3, 4, 3, 2, 1, 4, 3>(3);
    // A wide kernel and stride, valid, one channel in, more filters than a column block.
    each_conv_form::<10, 9, 1, 33, 4, 3, 0, 3, 2>(2);
    // Padding as wide as the kernel less one: corner windows with a single input pixel.
    each_conv_form::<2, 3, 2, 3, 3, 1, 2, 4, 5>(1);
}

#[test]
fn a_pointwise_emulated_convolution_is_the_product_on_the_images_themselves() {
    let g = Geometry::of::<4, 3, 3, 1, 1, 0, 4, 3>();
    let dims = ConvDims::new(&g, 2, 5).unwrap();
    assert!(dims.pointwise());
    assert_eq!(dims.columns_len(), 0);
    each_conv_form::<4, 3, 3, 5, 1, 1, 0, 4, 3>(2);
    // A 1x1 kernel with a stride still gathers its windows.
    let strided = Geometry::of::<4, 3, 3, 1, 2, 0, 2, 2>();
    assert!(!ConvDims::new(&strided, 2, 5).unwrap().pointwise());
    each_conv_form::<4, 3, 3, 5, 1, 2, 0, 2, 2>(2);
}

#[test]
fn large_emulated_convolutions_sum_the_bias_gradient_over_row_blocks() {
    // 20 images of 4x4 outputs: 320 rows, two row blocks of the bias gradient.
    let g = Geometry::of::<6, 6, 2, 3, 1, 0, 4, 4>();
    assert_eq!(
        ConvDims::new(&g, 20, 6).unwrap().chunk_dense.row_blocks(),
        2
    );
    each_conv_form::<6, 6, 2, 6, 3, 1, 0, 4, 4>(20);
}

#[test]
fn batches_beyond_the_window_budget_run_chunk_by_chunk_to_the_same_results() {
    // 16 x 18 window values per image: a budget of 300 takes one image per chunk, 600 two
    // (the last of five images alone), 10,000 all of them.
    let g = Geometry::of::<6, 6, 2, 3, 1, 0, 4, 4>();
    let chunk = |budget| ConvDims::with_budget(&g, 5, 3, budget).unwrap().chunk;
    assert_eq!((chunk(300), chunk(600), chunk(10_000)), (1, 2, 5));
    for budget in [1, 600] {
        each_conv_form_in_chunks::<6, 6, 2, 3, 3, 1, 0, 4, 4>(5, budget);
        // Pointwise, the chunks' products read and write the images' rows in place.
        each_conv_form_in_chunks::<4, 3, 3, 5, 1, 1, 0, 4, 3>(5, budget);
        // Padding and strides, 25 images of 324 window values: chunks of one image, then of
        // 18 and 7.
        each_conv_form_in_chunks::<7, 6, 3, 4, 3, 2, 1, 4, 3>(25, budget * 10);
    }
}

/// The inputs of a pooling: small integers (so windows tie for their maximum), a NaN and an
/// infinity; the output's gradient.
fn pool_inputs(args_len: (usize, usize), seed: u64) -> (Vec<f32>, Vec<f32>) {
    let mut s = Samples::new(seed);
    let mut x = s.ids(args_len.0, 4);
    x[args_len.0 / 3] = f32::NAN;
    x[args_len.0 / 2] = f32::INFINITY;
    x[2 * args_len.0 / 3] = f32::NEG_INFINITY;
    (x, s.between(args_len.1, -1.0, 1.0))
}

/// Asserts that `got` equals `want` element by element (infinities included; NaN where NaN).
#[track_caller]
fn assert_same(what: &str, got: &[f32], want: &[f32]) {
    assert_eq!(got.len(), want.len(), "{what}: lengths");
    for (i, (&g, &w)) in got.iter().zip(want).enumerate() {
        assert!(
            g == w || (g.is_nan() && w.is_nan()),
            "{what}: element {i} is {g}, expected {w}"
        );
    }
}

/// The emulated pooling and its backward agree with the CPU's op on `images` images: the
/// pooled values exactly; the input gradient exactly for max pooling (each window's first
/// maximum gets its gradient, in the same order) and within a rounding for average pooling.
fn check_pool<
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
>(
    pooling: Pooling,
    images: usize,
) {
    let g = Geometry::of::<H, W, C, K, S, 0, OH, OW>();
    let args = WindowArgs::new(&g, images).unwrap();
    let (x, r) = pool_inputs(
        (args.input_len(), args.pooled_len()),
        (H * W * C + K) as u64,
    );
    let dev = Cpu::default();
    let xt: Tensor<(usize, Const<H>, Const<W>, Const<C>), f32, _> =
        dev.tensor_from_vec(x.clone(), (images, Const, Const, Const));
    let rt: Tensor<(usize, Const<OH>, Const<OW>, Const<C>), f32, _> =
        dev.tensor_from_vec(r.clone(), (images, Const, Const, Const));
    let taped = xt.trace(Gradients::leaky());
    let y = match pooling {
        Pooling::Max => Cpu::try_max_pool2d::<_, H, W, C, K, S, OH, OW, _>(taped),
        Pooling::Avg => Cpu::try_avg_pool2d::<_, H, W, C, K, S, OH, OW, _>(taped),
    }
    .unwrap();
    let want_y = y.retaped::<NoneTape>().as_vec();
    let mut grads = (y * rt).sum().backward();
    let want_dx = grads.get_or_alloc_mut(&xt).unwrap().to_vec();

    let mut got_y = vec![GARBAGE; args.pooled_len()];
    let mut got_dx = vec![BEFORE; args.input_len()];
    let (x_at, y_at, r_at, dx_at) = (
        address(&x),
        got_y.as_mut_ptr() as u64,
        address(&r),
        got_dx.as_mut_ptr() as u64,
    );
    // SAFETY: the forwards read `x` and write `got_y`; the backwards read `x`, `got_y` and `r`
    // and rewrite `got_dx`; each as long as `args` says.
    unsafe {
        let (name, shape, params) = launch::pool(pooling, args, x_at, y_at);
        launch(name, shape, &params).unwrap();
        let (name, shape, params) = launch::pool_grad(pooling, args, x_at, y_at, r_at, dx_at);
        launch(name, shape, &params).unwrap();
    }
    let got_dx: Vec<f32> = got_dx.into_iter().map(|v| v - BEFORE).collect();
    assert_same(&format!("{pooling:?} {g:?}: pooled"), &got_y, &want_y);
    assert_close(
        &format!("{pooling:?} {g:?}: input gradient"),
        &got_dx,
        &want_dx,
        1e-6,
    );
    // Not vacuous: a NaN pooled, and the windows' gradients reached the input (max pooling:
    // one element per window at most).
    assert!(want_y.iter().any(|v| v.is_nan()));
    let reached = want_dx.iter().filter(|&&v| v != 0.0).count();
    match pooling {
        Pooling::Max => assert!(reached > 0 && reached <= want_y.len()),
        Pooling::Avg => assert!(reached >= want_y.len().min(want_dx.len()) / 2),
    }
}

/// [`check_pool`] for both poolings.
fn check_pools<
    const H: usize,
    const W: usize,
    const C: usize,
    const K: usize,
    const S: usize,
    const OH: usize,
    const OW: usize,
>(
    images: usize,
) {
    for pooling in [Pooling::Max, Pooling::Avg] {
        check_pool::<H, W, C, K, S, OH, OW>(pooling, images);
    }
}

#[test]
fn the_emulated_cuda_poolings_match_the_cpu_ops_with_ties_nan_and_overlaps() {
    // Keras's default 2x2 stride 2, an odd image (the last row and column are never read).
    check_pools::<5, 5, 3, 2, 2, 2, 2>(3);
    // Overlapping 3x3 windows of stride 2 on 35 channels: pixels in up to four windows.
    check_pools::<7, 6, 35, 3, 2, 3, 2>(2);
    // Stride 1, every pixel in up to nine windows.
    check_pools::<5, 4, 2, 3, 1, 3, 2>(2);
    // A 1x1 window: the identity.
    check_pools::<3, 2, 4, 1, 1, 3, 2>(1);
}

#[test]
fn sizes_the_fused_window_ops_cannot_take_are_left_to_dfdx_ops() {
    let g = Geometry::of::<5, 5, 2, 3, 1, 1, 5, 5>();
    assert!(ConvDims::new(&g, 0, 4).is_none(), "an empty batch");
    assert!(ConvDims::new(&g, 1, 0).is_none(), "no filters");
    assert!(ConvDims::new(&g, 1, 4).is_some());
    // Outputs whose windows leave the padded image.
    let outside = Geometry::of::<5, 5, 2, 3, 1, 1, 6, 5>();
    assert!(WindowArgs::new(&outside, 1).is_none());
    assert!(WindowArgs::new(&Geometry::of::<5, 5, 2, 3, 0, 1, 5, 5>(), 1).is_none());
}

#[test]
fn every_kernel_the_conv_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
