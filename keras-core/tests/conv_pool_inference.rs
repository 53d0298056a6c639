//! `Conv2D` → `MaxPooling2D` in a `Sequential` model's inference pass is one step
//! (`ForwardThen`; on `Cpu` in `f32` one fused kernel that pools each block of images'
//! convolution output in cache). It must give the layers' own forwards bit for bit: on both
//! convolution paths (direct and packed product), with stride and padding, overlapping pooling
//! windows, windows that leave rows unpooled, batches that end mid-block, activations the
//! kernel fuses (ReLU, Linear) and one it does not (Sigmoid), and NaNs, which pool to NaN.

use keras_core::dfdx::prelude::*;
use keras_core::layers::{Conv2D, Flatten, MaxPool2D, MaxPooling2D, ReLU, Sigmoid};
use keras_core::Sequential;

/// W4's two blocks on 16x16 images: a direct first convolution (9-value windows), a packed
/// second one (288-value windows, 20 filters), a pooling that drops the last row and column.
#[derive(Clone, Sequential)]
struct TwoBlocks<E: Dtype, D: Device<E>> {
    conv_1: Conv2D<1, 32, 3, 14, 14, 1, 0, ReLU, E, D>,
    pool_1: MaxPool2D<2, 7, 7>,
    conv_2: Conv2D<32, 20, 3, 5, 5, 1, 0, ReLU, E, D>,
    pool_2: MaxPooling2D<2, 2, 2>,
    flatten: Flatten<80>,
}

/// Stride 2 with padding 1 on 7x7x3 (27-value windows), then overlapping 3x3 windows of
/// stride 1.
#[derive(Clone, Sequential)]
struct StridedPadded<E: Dtype, D: Device<E>> {
    conv: Conv2D<3, 5, 3, 4, 4, 2, 1, ReLU, E, D>,
    pool: MaxPool2D<3, 2, 2, 1>,
}

/// `"same"` padding on one channel with a linear activation (negative values reach the pool),
/// 20 filters (one vector of 16 and 4 more); 9x9 pooled by 2 leaves the last row and column.
#[derive(Clone, Sequential)]
struct SameLinear<E: Dtype, D: Device<E>> {
    conv: Conv2D<1, 20, 3, 9, 9, 1, 1, keras_core::layers::Linear, E, D>,
    pool: MaxPool2D<2, 4, 4>,
}

/// An activation the kernel does not fuse: the step is the two forwards.
#[derive(Clone, Sequential)]
struct Sigmoidal<E: Dtype, D: Device<E>> {
    conv: Conv2D<2, 4, 2, 5, 5, 1, 0, Sigmoid, E, D>,
    pool: MaxPool2D<2, 2, 2>,
}

type Images<const H: usize, const W: usize, const C: usize> =
    Tensor<(usize, Const<H>, Const<W>, Const<C>), f32, Cpu>;

/// `n` images with normal values, the `nan`-th value (if any) a NaN.
fn images<const H: usize, const W: usize, const C: usize>(
    dev: &Cpu,
    n: usize,
    nan: Option<usize>,
) -> Images<H, W, C> {
    let x: Images<H, W, C> = dev.sample_normal_like(&(n, Const, Const, Const));
    let mut v = x.as_vec();
    if let Some(i) = nan {
        v[i] = f32::NAN;
    }
    dev.tensor_from_vec(v, (n, Const, Const, Const))
}

fn bits(v: Vec<f32>) -> Vec<u32> {
    v.into_iter().map(f32::to_bits).collect()
}

/// The batch sizes tried: one image, and more than one product block with a remainder (the
/// packed path's blocks hold `131072 / (out_pixels * window_len)` images: 18 for
/// `TwoBlocks::conv_2`).
const BATCHES: [usize; 2] = [1, 41];

#[test]
fn two_blocks_match_the_layers_bit_for_bit() {
    let dev = Cpu::seed_from_u64(7);
    let m = TwoBlocks::<f32, Cpu>::build(&dev);
    for n in BATCHES {
        for nan in [None, Some(16 * 16 * (n / 2) + 37)] {
            let x = images::<16, 16, 1>(&dev, n, nan);
            let fused = m.forward(x.clone()).as_vec();
            let a = m.pool_1.forward(m.conv_1.forward(x.clone()));
            let b = m.pool_2.forward(m.conv_2.forward(a));
            let plain = m.flatten.forward(b).as_vec();
            assert_eq!(bits(fused.clone()), bits(plain), "n = {n}, nan at {nan:?}");
            // A NaN reaches the outputs of its own image only.
            let nans: Vec<usize> = (0..fused.len()).filter(|&i| fused[i].is_nan()).collect();
            match nan {
                None => assert!(nans.is_empty()),
                Some(_) => {
                    assert!(!nans.is_empty());
                    assert!(nans.iter().all(|&i| i / 80 == n / 2), "{nans:?}");
                }
            }
            // The training pass (on a tape, the layers apart) computes the same values.
            let mut trained = m.clone();
            let grads = trained.alloc_grads();
            let taped = trained.forward_mut(x.traced(grads)).as_vec();
            assert_eq!(bits(fused), bits(taped), "n = {n}");
        }
    }
}

#[test]
fn strided_padded_and_overlapping_windows_match_the_layers() {
    let dev = Cpu::seed_from_u64(8);
    let m = StridedPadded::<f32, Cpu>::build(&dev);
    for n in BATCHES {
        for nan in [None, Some(7 * 7 * 3 * (n - 1) + 24)] {
            let x = images::<7, 7, 3>(&dev, n, nan);
            let fused = m.forward(x.clone()).as_vec();
            let plain = m.pool.forward(m.conv.forward(x)).as_vec();
            assert_eq!(bits(fused.clone()), bits(plain), "n = {n}");
            assert_eq!(fused.iter().any(|v| v.is_nan()), nan.is_some());
        }
    }
}

#[test]
fn same_padding_with_a_linear_activation_matches_the_layers() {
    let dev = Cpu::seed_from_u64(9);
    let m = SameLinear::<f32, Cpu>::build(&dev);
    for n in BATCHES {
        let x = images::<9, 9, 1>(&dev, n, Some(4));
        let fused = m.forward(x.clone()).as_vec();
        let plain = m.pool.forward(m.conv.forward(x)).as_vec();
        assert_eq!(bits(fused.clone()), bits(plain), "n = {n}");
        assert!(fused.iter().any(|v| *v < 0.0), "negative values are pooled");
        assert!(fused[..80].iter().any(|v| v.is_nan()));
    }
}

#[test]
fn an_activation_applied_after_the_product_matches_the_layers() {
    let dev = Cpu::seed_from_u64(10);
    let m = Sigmoidal::<f32, Cpu>::build(&dev);
    let x = images::<6, 6, 2>(&dev, 5, None);
    let fused = m.forward(x.clone()).as_vec();
    let plain = m.pool.forward(m.conv.forward(x)).as_vec();
    assert_eq!(bits(fused), bits(plain));
}

#[test]
fn the_inference_step_on_a_tape_keeps_the_gradients() {
    // `Module::forward` on a traced input takes the layers apart (the backward needs the
    // convolution's output): the same gradients as the training pass.
    let dev = Cpu::seed_from_u64(11);
    let m = StridedPadded::<f32, Cpu>::build(&dev);
    let x = images::<7, 7, 3>(&dev, 3, None);
    let grads = m.alloc_grads();
    let g1 = m.forward(x.clone().traced(grads)).sum().backward();
    let mut trained = m.clone();
    let grads = trained.alloc_grads();
    let g2 = trained.forward_mut(x.traced(grads)).sum().backward();
    assert_eq!(
        bits(g1.get(&m.conv.kernel).as_vec()),
        bits(g2.get(&trained.conv.kernel).as_vec())
    );
    assert_eq!(
        bits(g1.get(&m.conv.bias).as_vec()),
        bits(g2.get(&trained.conv.bias).as_vec())
    );
}
