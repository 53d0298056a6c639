// Checks that a convolution model whose head (global pooling over 8 channels) is narrower than
// the labels (10 wide) is one error naming the model's output width and the labels' width.
use keras::layers::{Conv2D, GlobalAveragePooling2D};
use keras::prelude::*;

#[derive(Sequential)]
struct ConvNet<E: Dtype, D: Device<E>> {
    conv: Conv2D<1, 8, 3, 26, 26, 1, 0, ReLU, E, D>,
    gap: GlobalAveragePooling2D,
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
