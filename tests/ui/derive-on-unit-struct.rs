// Checks that `#[derive(Sequential)]` on a unit struct is rejected: it has no layers.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp;

fn main() {}
