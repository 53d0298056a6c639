// Checks that a width mismatch between two hidden layers of a `#[derive(Sequential)]` model is
// reported at expansion time, naming both fields and both widths.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    input: Dense<784, 256, ReLU, E, D>,
    hidden: Dense<128, 64, ReLU, E, D>,
    out: Dense<64, 10, Linear, E, D>,
}

fn main() {}
