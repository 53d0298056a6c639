// Checks that feeding a batch whose feature width differs from the first layer's input width to
// `forward` does not build.
use keras::dfdx::tensor::ZerosTensor;
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
}

fn main() {
    let dev = Cpu::seed_from_u64(0);
    let model = Mlp::<f32, Cpu>::build(&dev);
    let x: Tensor<(usize, Const<5>), f32, Cpu> = dev.zeros_like(&(2, Const));
    let _y = model.forward(x);
}
