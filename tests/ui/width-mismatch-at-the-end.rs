// Checks that a width mismatch at the last layer of a `#[derive(Sequential)]` model is the first
// and only error, naming the output layer, the layer before it and both widths, in a program
// that builds the model and trains it.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    input: Dense<784, 512, ReLU, E, D>,
    hidden: Dense<512, 256, ReLU, E, D>,
    out: Dense<128, 10, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let model = Mlp::<f32, Cpu>::build(&dev);
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank1<784>, Sparse>::new(vec![0.0; 784], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
