// Checks that `#[derive(Sequential)]` on an enum is rejected: a model is a struct of layers.
use keras::prelude::*;

#[derive(Sequential)]
enum Mlp<E: Dtype, D: Device<E>> {
    Small(Dense<4, 3, Linear, E, D>),
    Large(Dense<4, 3, ReLU, E, D>),
}

fn main() {}
