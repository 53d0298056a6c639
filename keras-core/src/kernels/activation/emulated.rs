//! `activation.cu` run on the CPU by the emulation, through the plans of `launch.rs`, against
//! the CPU's op: the same formulas, so the same values and gradients (added to a gradient that
//! already holds values). The emulation's `expf`, `expm1f` and `log1pf` are the host's, as the
//! CPU op's are, so those agree bit for bit; its `erff` is the host C library's and the CPU
//! op's is `libm`'s (as dfdx's), so GELU agrees to a few ulp. On a GPU all four are CUDA's.

use dfdx::prelude::*;

use super::launch::{backward, forward, NAMES};
use super::{try_activation, Activation, EVERY_FORM};
use crate::kernels::emulation::samples::Samples;
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::Launch;

/// What the input's gradient holds before the backward adds to it.
const BEFORE: f32 = 0.5;

/// The CPU op: the values, and the gradient of `sum(y · w)` added to [`BEFORE`].
fn on_cpu(x: &[f32], w: &[f32], f: Activation) -> (Vec<f32>, Vec<f32>) {
    let dev = Cpu::default();
    let n = x.len();
    let x: Tensor<(usize,), f32, _> = dev.tensor_from_vec(x.to_vec(), (n,));
    let y = try_activation(x.leaky_trace(), f).unwrap();
    let values = y.retaped::<NoneTape>().as_vec();
    let w: Tensor<(usize,), f32, _> = dev.tensor_from_vec(w.to_vec(), (n,));
    let grads = (y * w).sum().backward();
    let gx = grads.get(&x).as_vec().iter().map(|g| BEFORE + g).collect();
    (values, gx)
}

/// The kernels, emulated, on a planned grid or on `shape`.
fn emulated(x: &[f32], w: &[f32], f: Activation, shape: Option<Launch>) -> (Vec<f32>, Vec<f32>) {
    let n = x.len();
    let mut y = vec![f32::NAN; n];
    let (planned, params) = forward(n, f, address(x), y.as_mut_ptr() as u64);
    // SAFETY: the kernel reads the `n` values of `x` and writes the `n` of `y`.
    unsafe { launch(NAMES[0], shape.unwrap_or(planned), &params) }.unwrap();
    let mut gx = vec![BEFORE; n];
    let (planned, params) = backward(n, f, address(x), address(w), gx.as_mut_ptr() as u64);
    // SAFETY: the kernel reads the `n` values of `x` and `w` and adds to the `n` of `gx`.
    unsafe { launch(NAMES[1], shape.unwrap_or(planned), &params) }.unwrap();
    (y, gx)
}

/// Equal (NaN where the CPU op has NaN), or for GELU within 4 ulp of `|want| + |x|`: the two
/// `erff`s differ by an ulp or so near ±1, and `1 + erf(x / √2)` cancels for negative `x`
/// (scaled by `x / 2` in the value, by at most 1 in the gradient of `sum(y · w)`, `|w| ≤ 1`).
fn assert_agree(x: &[f32], got: &[f32], want: &[f32], f: Activation, what: &str) {
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        let scale = if f == Activation::Gelu {
            4.0 * (w.abs() + x[i].abs())
        } else {
            0.0
        };
        let ok = g.to_bits() == w.to_bits()
            || (g.is_nan() && w.is_nan())
            || (g - w).abs() <= scale * f32::EPSILON;
        assert!(ok, "{f:?} {what} at {}: {g} vs the CPU op's {w}", x[i]);
    }
}

#[test]
fn the_emulated_activations_and_gradients_match_the_cpu_op() {
    let mut s = Samples::new(12);
    for n in [1, 300, 5000] {
        let mut x = s.between(n, -8.0, 8.0);
        // The kinks and a NaN.
        for (slot, v) in x.iter_mut().zip([0.0, -0.0, f32::NAN, 1e-30, -1e-30]) {
            *slot = v;
        }
        let w = s.between(n, -1.0, 1.0);
        for f in EVERY_FORM {
            let (y, gx) = emulated(&x, &w, f, None);
            let (want_y, want_gx) = on_cpu(&x, &w, f);
            assert_agree(&x, &y, &want_y, f, "value");
            assert_agree(&x, &gx, &want_gx, f, "gradient");
        }
    }
}

#[test]
fn a_grid_smaller_than_the_values_covers_them_all() {
    let mut s = Samples::new(2);
    let x = s.between(1500, -3.0, 3.0);
    let w = s.between(1500, -1.0, 1.0);
    // 2 blocks of 256 threads over 1,500 values: each thread takes two or three.
    let shape = Launch {
        grid: 2,
        grid_y: 1,
        block: 256,
        shared_bytes: 0,
    };
    let f = Activation::Elu { alpha: 1.3 };
    assert_eq!(emulated(&x, &w, f, Some(shape)), on_cpu(&x, &w, f));
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
