// Checks that `BinaryCrossentropy` on a 3-wide output with labels 1 wide is reported once,
// naming the model's output width and the labels' width.
use keras::prelude::*;

#[derive(Sequential)]
struct Classifier<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Sigmoid, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::seed_from_u64(0);
    let model = Classifier::<f32, Cpu>::build(&dev);
    let data = ArrayDataset::<Rank1<4>, DenseTarget<1>>::new(vec![0.0; 16], vec![0.0; 4])?;
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::BinaryCrossentropy::default(),
        (),
        &dev,
    )?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
