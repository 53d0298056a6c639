// Checks that a width mismatch at the last layer of a `#[derive(Sequential)]` model names the
// output layer, the layer before it, and both widths.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    input: Dense<784, 512, ReLU, E, D>,
    hidden: Dense<512, 256, ReLU, E, D>,
    out: Dense<128, 10, Linear, E, D>,
}

fn main() {}
