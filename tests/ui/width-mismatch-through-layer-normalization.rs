// Checks that a width mismatch through LayerNormalization is the first and only error, at
// expansion time, naming both fields and both widths, in a program that builds the model and
// trains it.
use keras::layers::LayerNormalization;
use keras::prelude::*;

#[derive(Sequential)]
struct Mlp<E: Dtype, D: Device<E>> {
    hidden: Dense<16, 32, ReLU, E, D>,
    norm: LayerNormalization<64, E, D>,
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
