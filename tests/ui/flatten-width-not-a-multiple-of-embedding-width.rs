// Checks that a Flatten after an Embedding whose width is no multiple of the embedding's width
// (whatever the sequence length) is the first and only error, naming both fields and both
// widths, in a program that builds the model and trains it.
use keras::layers::{Embedding, Flatten};
use keras::prelude::*;

#[derive(Sequential)]
struct Tagger<E: Dtype, D: Device<E>> {
    embed: Embedding<100, 16, E, D>,
    flat: Flatten<100>,
    out: Dense<100, 2, Linear, E, D>,
}

fn main() -> keras::Result<()> {
    let dev = Cpu::default();
    let model = Tagger::<f32, Cpu>::build(&dev);
    let mut trainer = Trainer::compile(
        model,
        Sgd::new().build()?,
        losses::SparseCategoricalCrossentropy::default().with_from_logits(true),
        (),
        &dev,
    )?;
    let data = ArrayDataset::<Rank1<8>, Sparse>::new(vec![0.0; 8], vec![1.0])?;
    trainer.fit(&data).epochs(1).run()?;
    Ok(())
}
