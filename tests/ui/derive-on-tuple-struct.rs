// Checks that `#[derive(Sequential)]` on a tuple struct is rejected: each layer needs a field name
// (it names its parameters in checkpoints).
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>>(Dense<4, 8, ReLU, E, D>, Dense<8, 3, Linear, E, D>);

fn main() {}
