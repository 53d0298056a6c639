// Checks that a second convolution whose declared output size is not what its kernel, stride
// and padding make of the first one's images is the first and only error, naming both fields and
// both sizes, in a program that builds the model and trains it.
use keras::layers::{Conv2D, GlobalAveragePooling2D};
use keras::prelude::*;

#[derive(Sequential)]
struct Cnn<E: Dtype, D: Device<E>> {
    conv1: Conv2D<1, 8, 3, 28, 28, 1, 1, ReLU, E, D>,
    conv2: Conv2D<8, 16, 3, 28, 28, 2, 1, ReLU, E, D>,
    gap: GlobalAveragePooling2D,
    out: Dense<16, 10, Linear, E, D>,
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
