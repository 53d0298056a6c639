// Checks that a model with a const generic parameter is rejected, pointing at the parameter:
// widths belong in the layer types.
// It is the only error of a program that builds the model and trains it.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<const H: usize, E: Dtype, D: Device<E>> {
    hidden: Dense<4, H, ReLU, E, D>,
    out: Dense<H, 3, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let model = Mlp::<8, f32, Cpu>::build(&dev);
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
