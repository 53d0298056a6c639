// Checks that a model whose only field is skipped (no layer at all) is rejected.
use keras::prelude::*;
use std::marker::PhantomData;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    #[layer(skip)]
    marker: PhantomData<(E, D)>,
}

fn main() {}
