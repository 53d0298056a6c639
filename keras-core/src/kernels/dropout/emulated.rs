//! `dropout.cu` run on the CPU by the emulation, through the plans of `launch.rs`, against the
//! CPU's op: the same mask (bit for bit: the draw is integer arithmetic), the same outputs, and
//! the same gradient added to one that already holds values.

use dfdx::prelude::*;

use super::launch::{plan, DropoutDtype, NAMES};
use super::{try_masked_dropout, DropoutMask};
use crate::kernels::emulation::samples::Samples;
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::Launch;

/// What the input's gradient holds before the backward adds to it.
const BEFORE: f64 = 0.5;

/// The CPU op on `x`: the output and the gradient of `sum(3 y)`.
fn on_cpu<E: Dtype>(x: &[E], rate: f64, seed: u64) -> (Vec<E>, Vec<E>)
where
    Cpu: crate::kernels::DropoutMaskKernel<E>,
{
    let dev = Cpu::default();
    let x: Tensor<(usize,), E, _> = dev.tensor_from_vec(x.to_vec(), (x.len(),));
    let y = try_masked_dropout(x.leaky_trace(), rate, seed).unwrap();
    let out = y.retaped::<NoneTape>().as_vec();
    let grads = (y * E::from_f64(3.0).unwrap()).sum().backward();
    (out, grads.get(&x).as_vec())
}

/// The kernels, emulated: the output and what the backward added to [`BEFORE`].
fn emulated<E: Dtype + DropoutDtype + crate::kernels::emulation::Param>(
    x: &[E],
    keep: E,
    rate: f64,
    seed: u64,
) -> (Vec<E>, Vec<E>) {
    let n = x.len();
    let mask = DropoutMask::new(rate, seed);
    let mut y = vec![E::from_f64(f64::NAN).unwrap(); n];
    let (shape, params) = plan(n, mask, keep, address(x), y.as_mut_ptr() as u64);
    // SAFETY: the kernel reads the `n` elements of `x` and writes the `n` of `y`.
    unsafe { launch(E::FORWARD, shape, &params) }.unwrap();
    let g = vec![E::from_f64(3.0).unwrap(); n];
    let before = E::from_f64(BEFORE).unwrap();
    let mut gx = vec![before; n];
    let (shape, params) = plan(n, mask, keep, address(&g), gx.as_mut_ptr() as u64);
    // SAFETY: the kernel reads the `n` elements of `g` and adds to the `n` of `gx`.
    unsafe { launch(E::BACKWARD, shape, &params) }.unwrap();
    (y, gx.into_iter().map(|v| v - before).collect())
}

#[test]
fn the_emulated_dropout_kernels_draw_the_cpu_mask_and_give_its_values_in_f32_and_f64() {
    let mut s = Samples::new(3);
    // One element; fewer than a block; more than the grid's threads at 65,535 blocks is too
    // many to emulate, so several blocks with a ragged end.
    for (n, rate, seed) in [
        (1, 0.5, 1),
        (100, 0.3, 2),
        (2_500, 0.5, 3),
        (777, 0.0, 4),
        (64, 1.0, 5),
    ] {
        let x32 = s.between(n, -4.0, 4.0);
        let (want_y, want_g) = on_cpu(&x32, rate, seed);
        let (y, g) = emulated(&x32, (1.0 - rate) as f32, rate, seed);
        assert_eq!((&y, &g), (&want_y, &want_g), "f32, {n} elements at {rate}");
        let x64: Vec<f64> = x32.iter().map(|&v| f64::from(v)).collect();
        let (want_y, want_g) = on_cpu(&x64, rate, seed);
        let (y, g) = emulated(&x64, 1.0 - rate, rate, seed);
        assert_eq!((&y, &g), (&want_y, &want_g), "f64, {n} elements at {rate}");
        let mask = DropoutMask::new(rate, seed);
        for (i, &v) in y.iter().enumerate() {
            assert_eq!(
                v != 0.0,
                mask.keeps(i as u64) && x64[i] != 0.0,
                "element {i}"
            );
        }
    }
}

#[test]
fn a_grid_smaller_than_the_elements_covers_them_all() {
    // 3 blocks of 256 threads over 2,000 elements: each thread takes several.
    let x: Vec<f32> = (0..2_000).map(|i| i as f32 + 1.0).collect();
    let mask = DropoutMask::new(0.5, 11);
    let (_, params) = plan(x.len(), mask, 0.5f32, address(&x), 0);
    let mut y = vec![f32::NAN; x.len()];
    let params = (
        params.0,
        params.1,
        params.2,
        params.3,
        params.4,
        y.as_mut_ptr() as u64,
    );
    let shape = Launch {
        grid: 3,
        grid_y: 1,
        block: 256,
        shared_bytes: 0,
    };
    // SAFETY: the kernel reads the 2,000 elements of `x` and writes the 2,000 of `y`.
    unsafe { launch(NAMES[0], shape, &params) }.unwrap();
    for (i, (&y, &x)) in y.iter().zip(&x).enumerate() {
        assert_eq!(y, if mask.keeps(i as u64) { x / 0.5 } else { 0.0 });
    }
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
