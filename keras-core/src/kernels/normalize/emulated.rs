//! `normalize.cu` run on the CPU by the emulation, through the plans of `launch.rs`, against
//! the CPU's op: the same outputs bit for bit, both ways, and the same gradient added to one
//! that already holds values.

use dfdx::prelude::*;

use super::launch::{backward, forward, ForwardBuffers, NAMES};
use super::try_normalize;
use crate::kernels::emulation::samples::Samples;
use crate::kernels::emulation::{address, assert_kernels_exist, launch};
use crate::kernels::Launch;

/// What the input's gradient holds before the backward adds to it.
const BEFORE: f32 = 0.5;

/// Features of the inputs these tests use.
const C: usize = 6;

/// One case: `(rows, C)` inputs, the statistics, and the weights `w` of `sum(y · w)`.
struct Case {
    x: Vec<f32>,
    mean: Vec<f32>,
    variance: Vec<f32>,
    w: Vec<f32>,
}

impl Case {
    /// Values in ranges a model sees, and one feature of zero variance.
    fn new(s: &mut Samples, rows: usize) -> Self {
        let mut variance = s.between(C, 0.0, 9.0);
        variance[1] = 0.0;
        Case {
            x: s.between(rows * C, -5.0, 5.0),
            mean: s.between(C, -2.0, 2.0),
            variance,
            w: s.between(rows * C, -1.0, 1.0),
        }
    }

    /// The CPU op: the outputs, and the gradient of `sum(y · w)` added to [`BEFORE`].
    fn on_cpu<const INVERT: bool>(&self) -> (Vec<f32>, Vec<f32>) {
        let dev = Cpu::default();
        let rows = self.x.len() / C;
        let x: Tensor<(usize, Const<C>), f32, _> =
            dev.tensor_from_vec(self.x.clone(), (rows, Const));
        let mean: Tensor<Rank1<C>, f32, _> = dev.tensor_from_vec(self.mean.clone(), (Const,));
        let variance: Tensor<Rank1<C>, f32, _> =
            dev.tensor_from_vec(self.variance.clone(), (Const,));
        let y = try_normalize::<C, INVERT, _, _, _>(x.leaky_trace(), &mean, &variance).unwrap();
        let out = y.retaped::<NoneTape>().as_vec();
        let w: Tensor<(usize, Const<C>), f32, _> =
            dev.tensor_from_vec(self.w.clone(), (rows, Const));
        let grads = (y * w).sum().backward();
        let gx = grads.get(&x).as_vec().iter().map(|g| BEFORE + g).collect();
        (out, gx)
    }

    /// The kernels, emulated, on a planned grid or on `shape`.
    fn emulated(&self, invert: bool, shape: Option<Launch>) -> (Vec<f32>, Vec<f32>) {
        let n = self.x.len();
        let mut y = vec![f32::NAN; n];
        let at = ForwardBuffers {
            x: address(&self.x),
            mean: address(&self.mean),
            variance: address(&self.variance),
            y: y.as_mut_ptr() as u64,
        };
        let (planned, params) = forward(n, C, invert, at);
        // SAFETY: the kernel reads the `n` values of `x` and the `C` of `mean` and `variance`,
        // and writes the `n` of `y`.
        unsafe { launch(NAMES[0], shape.unwrap_or(planned), &params) }.unwrap();
        let mut gx = vec![BEFORE; n];
        let variance = address(&self.variance);
        let (planned, params) = backward(
            n,
            C,
            invert,
            variance,
            address(&self.w),
            gx.as_mut_ptr() as u64,
        );
        // SAFETY: the kernel reads the `C` values of `variance` and the `n` of `w`, and adds to
        // the `n` of `gx`.
        unsafe { launch(NAMES[1], shape.unwrap_or(planned), &params) }.unwrap();
        (y, gx)
    }
}

#[test]
fn the_emulated_op_and_gradient_match_the_cpu_op_bit_for_bit_both_ways() {
    let mut s = Samples::new(5);
    // One row, a batch, rows over several of the CPU op's blocks of work.
    for rows in [1, 32, 3000] {
        let case = Case::new(&mut s, rows);
        assert_eq!(
            case.emulated(false, None),
            case.on_cpu::<false>(),
            "{rows} rows"
        );
        assert_eq!(
            case.emulated(true, None),
            case.on_cpu::<true>(),
            "{rows} rows, inverted"
        );
    }
}

#[test]
fn a_grid_smaller_than_the_values_covers_them_all() {
    let mut s = Samples::new(8);
    let case = Case::new(&mut s, 100);
    // 2 blocks of 256 threads over 600 values: some threads take two, some three.
    let shape = Launch {
        grid: 2,
        grid_y: 1,
        block: 256,
        shared_bytes: 0,
    };
    assert_eq!(case.emulated(false, Some(shape)), case.on_cpu::<false>());
    assert_eq!(case.emulated(true, Some(shape)), case.on_cpu::<true>());
}

#[test]
fn every_kernel_the_launcher_loads_is_in_the_cu_file() {
    assert_kernels_exist(&NAMES);
}
