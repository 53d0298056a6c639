// Checks that a model with a lifetime parameter is rejected: a model owns its layers.
// It is the only error of a program that builds the model and trains it.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<'a, E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
    #[layer(skip)]
    name: &'a str,
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
    let data = ArrayDataset::<Rank1<4>, Sparse>::new(vec![0.0; 4], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
