// Checks that feeding a single unbatched sample (rank 1) to `forward`, where the model expects a
// `(batch, features)` tensor, does not build.
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
    let x: Tensor<Rank1<4>, f32, Cpu> = dev.zeros();
    let _y = model.forward(x);
}
