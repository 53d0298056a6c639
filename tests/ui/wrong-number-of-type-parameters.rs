// Checks that a model generic over the dtype only (no device parameter) is rejected: a model
// takes exactly two type parameters, the dtype and the device.
// It is the only error of a program that builds the model and trains it.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype> {
    hidden: Dense<4, 8, ReLU, E, Cpu>,
    out: Dense<8, 3, Linear, E, Cpu>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let model = Mlp::<f32>::build(&dev);
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(vec![0.0; 4], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
