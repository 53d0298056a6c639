// Checks that a model generic over the dtype only (no device parameter) is rejected: a model
// takes exactly two type parameters, the dtype and the device.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype> {
    hidden: Dense<4, 8, ReLU, E, Cpu>,
    out: Dense<8, 3, Linear, E, Cpu>,
}

fn main() {}
