// Checks that activation and dropout layers pass the width through: a mismatch between the
// Dense layers around them is the first and only error, naming the Dense layer that produced the
// width, in a program that builds the model and trains it.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<16, 32, Linear, E, D>,
    act: ReLU,
    dropout: Dropout,
    squash: Tanh,
    out: Dense<64, 4, Linear, E, D>,
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
    let data = ArrayDataset::<Rank1<16>, Sparse>::new(vec![0.0; 16], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
