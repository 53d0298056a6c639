// Checks that an unknown key in `#[layer(...)]` is an error spanned at that key, listing the
// supported ones.
// It is the only error of a program that builds the model and trains it.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    #[layer(frozen)]
    out: Dense<8, 3, Linear, E, D>,
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
