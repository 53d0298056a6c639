// Checks that a model with a const generic parameter is rejected, pointing at the parameter:
// widths belong in the layer types.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<const H: usize, E: Dtype, D: Device<E>> {
    hidden: Dense<4, H, ReLU, E, D>,
    out: Dense<H, 3, Linear, E, D>,
}

fn main() {}
