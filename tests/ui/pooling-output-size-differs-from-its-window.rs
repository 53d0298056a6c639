// Checks that a pooling layer whose declared output size is not what its window makes of the
// previous layer's images is the first and only error, at `cargo check`, naming both fields and
// both sizes, in a program that builds the model and trains it.
use keras::layers::{Conv2D, Flatten, MaxPool2D};
use keras::prelude::*;

#[derive(Sequential)]
struct Cnn<E: Dtype, D: Device<E>> {
    conv: Conv2D<1, 8, 3, 26, 26, 1, 0, ReLU, E, D>,
    pool: MaxPool2D<2, 12, 12>,
    flat: Flatten<1152>,
    out: Dense<1152, 10, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let model = Cnn::<f32, Cpu>::build(&dev);
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank3<28, 28, 1>, Sparse>::new(vec![0.0; 784], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
