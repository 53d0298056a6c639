// Checks that training a model that ends in a convolution (no `Flatten`/`Dense` head) with a
// dense-label loss on labels 10 wide is one error naming the model's output shape, the last
// layer and the labels' width.
use keras::layers::Conv2D;
use keras::prelude::*;

#[derive(Sequential)]
struct ConvNet<E: Dtype, D: Device<E>> {
    conv1: Conv2D<1, 8, 3, 26, 26, 1, 0, ReLU, E, D>,
    conv2: Conv2D<8, 10, 3, 24, 24, 1, 0, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let mut trainer = Trainer::compile(
        ConvNet::<f32, Cpu>::build(&dev),
        Adam::new().build()?,
        losses::CategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank3<28, 28, 1>, DenseTarget<10>>::new(vec![0.0; 784], vec![0.0; 10])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
