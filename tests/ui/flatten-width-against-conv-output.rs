// Checks that a `Flatten<N>` whose N is not the product of the previous convolution's (or
// pooling's) output height, width and channels names both layers and the three sizes, as the
// only error of a whole program that builds and trains the model.
use keras::layers::{Conv2D, MaxPool2D};
use keras::prelude::*;

#[derive(Sequential)]
struct ConvNet<E: Dtype, D: Device<E>> {
    conv: Conv2D<1, 8, 3, 26, 26, 1, 0, ReLU, E, D>,
    pool: MaxPool2D<2, 13, 13>,
    flat: Flatten<1000>,
    logits: Dense<1000, 10, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let mut trainer = Trainer::compile(
        ConvNet::<f32, Cpu>::build(&dev),
        Adam::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank3<28, 28, 1>, Sparse>::new(vec![0.0; 784], vec![0.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
