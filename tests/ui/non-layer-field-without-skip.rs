// Checks that a field that is not a layer (a `String`) without `#[layer(skip)]` is reported at
// that field: every field of a model is a layer unless it is skipped.
// It is the only error of a program that builds the model and trains it.
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<4, 8, ReLU, E, D>,
    out: Dense<8, 3, Linear, E, D>,
    name: String,
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
