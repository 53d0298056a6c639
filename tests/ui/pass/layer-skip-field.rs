// Checks `#[layer(skip)]`: a skipped field is left out of the forward chain and the parameters,
// and is filled with `Default::default()` when the model is built.
use keras::dfdx::shapes::HasShape;
use keras::dfdx::tensor::OnesTensor;
use keras::prelude::*;

#[derive(Debug, Default, PartialEq)]
struct Notes {
    text: String,
}

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    #[layer(skip)]
    notes: Notes,
    out: Dense<8, 2, Linear, E, D>,
    #[layer(skip)]
    steps_seen: usize,
}

fn main() {
    let dev = Cpu::seed_from_u64(0);
    let mut model = Mlp::<f32, Cpu>::build(&dev);
    assert_eq!(model.notes, Notes::default());
    assert_eq!(model.steps_seen, 0);
    assert_eq!(model.num_trainable_params(), 4 * 8 + 8 + 8 * 2 + 2);

    model.notes.text = "a small MLP".to_string();
    model.steps_seen = 3;
    let x: Tensor<(usize, Const<4>), f32, Cpu> = dev.ones_like(&(3, Const));
    let y = model.forward(x);
    assert_eq!(y.shape().0, 3);
    assert_eq!(model.notes.text, "a small MLP");
    assert_eq!(model.steps_seen, 3);
}
