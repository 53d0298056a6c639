// Checks that a width mismatch the derive cannot read from literals (a width given as a named
// constant) still fails to build when the model is used, at the layer that rejects its input.
use keras::dfdx::tensor::ZerosTensor;
use keras::prelude::*;

const HIDDEN: usize = 32;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, HIDDEN, ReLU, E, D>,
    out: Dense<16, 3, Linear, E, D>,
}

fn main() {
    let dev = Cpu::seed_from_u64(0);
    let model = Mlp::<f32, Cpu>::build(&dev);
    let x: Tensor<(usize, Const<4>), f32, Cpu> = dev.zeros_like(&(2, Const));
    let _y = model.forward(x);
}
