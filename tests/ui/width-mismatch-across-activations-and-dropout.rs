// Checks that activation and dropout layers pass the width through: a mismatch between the
// Dense layers around them is still reported, naming the Dense layer that produced the width.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<16, 32, Linear, E, D>,
    act: ReLU,
    dropout: Dropout,
    squash: Tanh,
    out: Dense<64, 4, Softmax, E, D>,
}

fn main() {}
