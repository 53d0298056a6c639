// Checks that a channel mismatch between two convolutions is reported at expansion time, naming
// both fields and both channel counts.
use keras::prelude::*;
use keras::layers::Conv2D;

#[derive(Sequential)]
struct Cnn<E: Dtype, D: Device<E>> {
    conv1: Conv2D<1, 8, 3, 26, 26, 1, 0, ReLU, E, D>,
    conv2: Conv2D<16, 32, 3, 24, 24, 1, 0, ReLU, E, D>,
}

fn main() {}
