//! `global_pool.cu` run on the CPU by the emulation, through the plans of `launch.rs`, against
//! the CPU's op: the same means bit for bit (the same sums in the same order), and the same
//! gradient added to one that already holds values.

use dfdx::prelude::*;

use super::launch::{backward, forward, NAMES};
use super::try_global_avg_pool;
use crate::kernels::emulation::samples::Samples;
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::Launch;

/// What the input's gradient holds before the backward adds to it.
const BEFORE: f32 = 0.5;

/// Channels of the inputs these tests use.
const C: usize = 7;

/// The CPU op on `(rows, steps, C)` values: the means, and the gradient of `sum(y · w)` added
/// to [`BEFORE`].
fn on_cpu(x: &[f32], rows: usize, steps: usize, w: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let dev = Cpu::default();
    let x: Tensor<(usize, usize, Const<C>), f32, _> =
        dev.tensor_from_vec(x.to_vec(), (rows, steps, Const));
    let y = try_global_avg_pool(x.leaky_trace()).unwrap();
    let means = y.retaped::<NoneTape>().as_vec();
    let w: Tensor<(usize, Const<C>), f32, _> = dev.tensor_from_vec(w.to_vec(), (rows, Const));
    let grads = (y * w).sum().backward();
    let gx = grads.get(&x).as_vec().iter().map(|g| BEFORE + g).collect();
    (means, gx)
}

/// The kernels, emulated, on a planned grid or on `shape`.
fn emulated(
    x: &[f32],
    rows: usize,
    steps: usize,
    w: &[f32],
    shape: Option<Launch>,
) -> (Vec<f32>, Vec<f32>) {
    let mut y = vec![f32::NAN; rows * C];
    let (planned, params) = forward(rows, steps, C, address(x), y.as_mut_ptr() as u64);
    // SAFETY: the kernel reads the `rows · steps · C` values of `x` and writes the `rows · C`
    // of `y`.
    unsafe { launch(NAMES[0], shape.unwrap_or(planned), &params) }.unwrap();
    let mut gx = vec![BEFORE; x.len()];
    let (planned, params) = backward(rows, steps, C, address(w), gx.as_mut_ptr() as u64);
    // SAFETY: the kernel reads the `rows · C` values of `w` and adds to the `rows · steps · C`
    // of `gx`.
    unsafe { launch(NAMES[1], shape.unwrap_or(planned), &params) }.unwrap();
    (y, gx)
}

#[test]
fn the_emulated_pooling_and_gradient_match_the_cpu_op_bit_for_bit() {
    let mut s = Samples::new(9);
    // One step, a text batch, a convnet head (7 × 7 pixels), rows spanning several blocks.
    for (rows, steps) in [(3, 1), (16, 20), (4, 49), (300, 3)] {
        let x = s.between(rows * steps * C, -3.0, 3.0);
        let w = s.between(rows * C, -1.0, 1.0);
        let want = on_cpu(&x, rows, steps, &w);
        assert_eq!(
            emulated(&x, rows, steps, &w, None),
            want,
            "{rows} × {steps}"
        );
    }
}

#[test]
fn a_grid_smaller_than_the_values_covers_them_all() {
    let mut s = Samples::new(4);
    let (rows, steps) = (90, 11);
    let x = s.between(rows * steps * C, -1.0, 1.0);
    let w = s.between(rows * C, -1.0, 1.0);
    // 2 blocks of 256 threads over 630 outputs and 6,930 inputs: each thread takes several.
    let shape = Launch {
        grid: 2,
        grid_y: 1,
        block: 256,
        shared_bytes: 0,
    };
    assert_eq!(
        emulated(&x, rows, steps, &w, Some(shape)),
        on_cpu(&x, rows, steps, &w)
    );
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
