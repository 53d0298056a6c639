// Checks that an unknown key in `#[layer(...)]` is an error spanned at that key, listing the
// supported ones.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    #[layer(frozen)]
    out: Dense<8, 3, Linear, E, D>,
}

fn main() {}
