// Checks that a field that is not a layer (a `String`) without `#[layer(skip)]` is reported at
// that field: every field of a model is a layer unless it is skipped.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
    name: String,
}

fn main() {}
