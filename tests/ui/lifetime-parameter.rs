// Checks that a model with a lifetime parameter is rejected: a model owns its layers.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<'a, E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
    #[layer(skip)]
    name: &'a str,
}

fn main() {}
