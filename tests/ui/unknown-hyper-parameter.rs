// Checks that `#[layer(name = value)]` naming a field the layer does not have is an error at
// that name.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    #[layer(rat = 0.2)]
    drop: Dropout,
    out: Dense<8, 3, Linear, E, D>,
}

fn main() {}
